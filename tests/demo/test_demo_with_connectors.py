"""The demo through the portal's own connectors: what staff would see and what erasure does.

These tests prove the demo does its job: the shared rows are found for each participant, and
erasing Alice leaves Bob's side of the shared ticket and workspace intact.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.demo.conftest import erase_everywhere
from tests.demo.test_demo_people import EXPECTED
from workflows.datamap import load_datamap
from workflows.demo.agent_memory import chroma_available
from workflows.scan import check_datamap, scan

ALICE, BOB = "alice@example.com", "bob@example.com"


def expected_scan(email: str, files: int, memories: int) -> dict:
    """EXPECTED (docs/DEMO.md) in the shape scan() returns, for every store of the map."""
    out = {store: dict(tables) for store, tables in EXPECTED[email].items()}
    if files:
        out["workspace_files"] = {"files": files}
    if memories and chroma_available():
        out["agent_memory"] = {"agent_memory": memories}
    return out


def nonzero(counts: dict) -> dict:
    return {store: {t: n for t, n in tables.items() if n}
            for store, tables in counts.items() if any(tables.values())}


def test_live_check_of_the_demo_map_finds_no_problem(seeded_demo):
    assert check_datamap(seeded_demo) == []


@pytest.mark.parametrize(("email", "files", "memories"), [
    (ALICE, 3, 3), (BOB, 2, 2), ("kenji@example.com", 1, 1), ("carol@example.com", 0, 0),
    ("dave@example.com", 0, 0)])
def test_scan_finds_what_demo_md_lists(seeded_demo, email, files, memories):
    counts = nonzero(scan(load_datamap(seeded_demo), email))
    expected = expected_scan(email, files, memories)
    if "agent_memory" in counts:
        # The chroma connector may name its one "table" after the collection or the kind.
        expected["agent_memory"] = {next(iter(counts["agent_memory"])): memories}
    assert counts == expected


def test_erasing_alice_keeps_bobs_side_of_what_they_share(small_demo):
    bob_before = nonzero(scan(small_demo, BOB))
    erase_everywhere(small_demo, ALICE)

    assert nonzero(scan(small_demo, BOB)) == bob_before
    left = nonzero(scan(small_demo, ALICE))
    # Only what the policy keeps is still found: billing, 7 years for tax.
    assert left == {"billing": {"billing_customers": 1, "invoices": 3}}
    with sqlite3.connect(small_demo.store("support").url.removeprefix("sqlite:///")) as db:
        ticket = db.execute("SELECT opened_by_user_id, subject, status FROM support_tickets "
                            "WHERE id = 1").fetchone()
        messages = db.execute("SELECT id, author_user_id, author_kind, body IS NULL "
                              "FROM ticket_messages WHERE ticket_id = 1 ORDER BY id").fetchall()
        workspace = db.execute("SELECT owner_user_id, name FROM workspaces WHERE id = 1").fetchone()
    assert ticket == (None, None, "closed")
    # Alice's message is blanked; the staff replies and Bob's message are untouched.
    assert messages == [(1, None, "customer", 1), (2, None, "staff", 0), (3, 2, "customer", 0),
                        (4, None, "staff", 0)]
    # Workspace 1 stays for Bob, with nothing of Alice's: no owner link, and no name (a
    # workspace name is often its owner's own, "Kenji workspace").
    assert workspace == (None, None)


def test_erasing_alice_twice_changes_nothing_more(small_demo):
    erase_everywhere(small_demo, ALICE)
    after_first = {name: nonzero(scan(small_demo, email))
                   for name, email in (("alice", ALICE), ("bob", BOB))}
    erase_everywhere(small_demo, ALICE)
    assert {name: nonzero(scan(small_demo, email))
            for name, email in (("alice", ALICE), ("bob", BOB))} == after_first
