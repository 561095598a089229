"""The named demo people have exactly the data docs/DEMO.md says, and nothing secret leaks.

EXPECTED below is the table in docs/DEMO.md; change both together.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.demo.conftest import load_map, rows_by_map, sqlite_path
from workflows.demo.agent_memory import chroma_available

EXPECTED = {
    "alice@example.com": {
        "accounts": {"users": 1},
        "workspaces": {"workspaces": 2, "workspace_members": 2},
        "support": {"support_tickets": 2, "ticket_participants": 2, "ticket_messages": 2,
                    "feedback": 1},
        "instance_metrics": {"instance_usage": 3},
        "agent_activity": {"agent_task_logs": 5},
        "oauth_connections": {"oauth_connections": 2},
        "token_vault": {"sealed_tokens": 2},
        "integration_activity": {"integration_activity_logs": 4},
        "conversations": {"conversations": 2, "conversation_messages": 8},
        "analytics": {"usage_analytics": 6},
        "marketing": {"marketing_preferences": 1},
        "billing": {"billing_customers": 1, "invoices": 3, "payment_methods": 1},
    },
    "bob@example.com": {
        "accounts": {"users": 1},
        "workspaces": {"workspaces": 1, "workspace_members": 2},
        "support": {"support_tickets": 1, "ticket_participants": 2, "ticket_messages": 2},
        "instance_metrics": {"instance_usage": 2},
        "agent_activity": {"agent_task_logs": 3},
        "oauth_connections": {"oauth_connections": 1},
        "token_vault": {"sealed_tokens": 1},
        "integration_activity": {"integration_activity_logs": 2},
        "conversations": {"conversations": 1, "conversation_messages": 2},
        "analytics": {"usage_analytics": 3},
        "marketing": {"marketing_preferences": 1},
        "billing": {"billing_customers": 1, "invoices": 1},
    },
    "kenji@example.com": {
        "accounts": {"users": 1},
        "workspaces": {"workspaces": 1, "workspace_members": 1},
        "instance_metrics": {"instance_usage": 1},
        "agent_activity": {"agent_task_logs": 1},
        "oauth_connections": {"oauth_connections": 1},
        "conversations": {"conversations": 1, "conversation_messages": 2},
        "analytics": {"usage_analytics": 1},
        "marketing": {"marketing_preferences": 1},
    },
    "carol@example.com": {"billing": {"billing_customers": 1, "invoices": 3}},
    "dave@example.com": {},
}
USER_IDS = {"alice@example.com": "1", "bob@example.com": "2", "kenji@example.com": "3"}
FILES = {"1": 3, "2": 2, "3": 1}
MEMORIES = {"1": 3, "2": 2, "3": 1}


@pytest.mark.parametrize("email", sorted(EXPECTED))
def test_named_person_has_exactly_the_rows_demo_md_lists(seeded_demo, email):
    assert rows_by_map(seeded_demo, email) == EXPECTED[email]


@pytest.mark.parametrize("user_id", sorted(FILES))
def test_named_person_has_their_workspace_files(seeded_demo, user_id):
    folder = seeded_demo.parent / "files" / user_id
    assert sum(1 for p in folder.rglob("*") if p.is_file()) == FILES[user_id]


def test_carol_and_dave_have_no_workspace_files_or_account(seeded_demo):
    with sqlite3.connect(seeded_demo.parent / "craftos.db") as db:
        emails = {"carol@example.com", "dave@example.com"}
        found = db.execute("SELECT count(*) FROM users WHERE email IN (?, ?)", sorted(emails))
        assert found.fetchone()[0] == 0
    # Carol's old user id survives only in billing, where her invoices are kept for tax.
    with sqlite3.connect(seeded_demo.parent / "billing.db") as billing:
        (carol_id,) = billing.execute(
            "SELECT user_id FROM billing_customers WHERE email = 'carol@example.com'").fetchone()
    assert not (seeded_demo.parent / "files" / str(carol_id)).exists()


def test_shared_ticket_and_workspace_hold_both_alice_and_bob(seeded_demo):
    with sqlite3.connect(seeded_demo.parent / "craftos.db") as db:
        participants = db.execute(
            "SELECT user_id FROM ticket_participants WHERE ticket_id = 1 ORDER BY user_id"
        ).fetchall()
        members = db.execute(
            "SELECT user_id, role FROM workspace_members WHERE workspace_id = 1 ORDER BY user_id"
        ).fetchall()
        owner = db.execute("SELECT owner_user_id FROM workspaces WHERE id = 1").fetchone()
    assert participants == [(1,), (2,)]
    assert members == [(1, "owner"), (2, "member")]
    assert owner == (1,)


def test_bobs_invoice_points_at_alices_card_which_is_not_bobs(seeded_demo):
    with sqlite3.connect(seeded_demo.parent / "billing.db") as db:
        card = db.execute("SELECT payment_method_id FROM invoices WHERE user_id = 2").fetchone()
        owner = db.execute("SELECT user_id FROM payment_methods WHERE id = ?", card).fetchone()
    assert owner == (1,)


needs_chroma = pytest.mark.skipif(
    not chroma_available(), reason="chromadb (requirements-chroma.txt) not installed")


@needs_chroma
@pytest.mark.parametrize("user_id", sorted(MEMORIES))
def test_named_person_has_agent_memories_filtered_by_user_id(seeded_demo, user_id):
    import chromadb

    client = chromadb.PersistentClient(path=str(seeded_demo.parent / "chroma"))
    try:
        found = client.get_collection("agent_memory").get(where={"user_id": user_id})
    finally:
        client.close()
    assert len(found["ids"]) == MEMORIES[user_id]


# A card number: 13-19 digits starting with a card network's digit (2-6: Mastercard, Amex,
# Visa, Discover...; so epoch-millisecond timestamps do not count), run together or in groups
# of four split by spaces or dashes, standing alone (not inside a hex hash or a UUID), and
# Luhn-valid. The token markers are those of the providers the demo
# connects to (Google, Slack, Microsoft) and the usual field names.
CARD_RUN = re.compile(
    rb"(?<![0-9A-Za-z-])(?=[2-6])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7})(?![0-9A-Za-z-])")
TOKEN_MARKERS = (b"ya29.", b"1//0", b"xoxb-", b"xoxp-", b"EwB", b"access_token", b"refresh_token",
                 b"Bearer ", b"oauth_token", b"client_secret")


def _luhn_valid(run: bytes) -> bool:
    digits = run.decode().replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _scanned_values(demo: Path):
    """(file name, bytes) for each database value and each text file of the demo.

    Databases are read value by value: their raw pages put unrelated fields side by side,
    which can form digit runs no row holds. Random binary uploads are skipped for the same
    reason (any byte pattern turns up in megabytes of noise).
    """
    databases = [p for p in demo.rglob("*") if p.is_file() and p.suffix in (".db", ".sqlite3")]
    assert any(p.name == "chroma.sqlite3" for p in databases) or not chroma_available()
    for path in databases:
        with sqlite3.connect(path) as db:
            tables = [name for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (names from the db)
                    for value in row:
                        if isinstance(value, bytes):
                            yield path.name, value
                        elif value is not None:
                            yield path.name, str(value).encode()
        # The raw file too, for token markers, which are long enough not to appear by chance.
        yield path.name + " (raw)", path.read_bytes()
    for path in demo.rglob("*"):
        if path.is_file() and path.suffix in (".md", ".json", ".toml"):
            yield path.name, path.read_bytes()


def test_no_full_card_number_or_oauth_token_anywhere_in_the_demo(seeded_demo):
    for name, data in _scanned_values(seeded_demo.parent):
        if not name.endswith("(raw)"):
            cards = [m.group() for m in CARD_RUN.finditer(data) if _luhn_valid(m.group())]
            assert not cards, f"{name} holds what looks like a card number"
        for marker in TOKEN_MARKERS:
            assert marker not in data, f"{name} holds {marker!r}"


def test_card_check_would_catch_a_full_number():
    assert _luhn_valid(b"4242 4242 4242 4242") and CARD_RUN.search(b"card: 4242-4242-4242-4242.")
    assert not CARD_RUN.search(b"demo-sha256$f673fd63e45cbac3919021115959b71a")
    assert not CARD_RUN.search(b"00000000-0000-0000-0000-000000000000")


def test_oauth_and_card_tables_have_no_column_for_secrets(seeded_demo):
    with sqlite3.connect(seeded_demo.parent / "craftos.db") as db:
        oauth = {row[1] for row in db.execute("PRAGMA table_info(oauth_connections)")}
    with sqlite3.connect(seeded_demo.parent / "billing.db") as db:
        cards = {row[1] for row in db.execute("PRAGMA table_info(payment_methods)")}
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO payment_methods (user_id, brand, last4, exp_month, exp_year,"
                       " added_at) VALUES (1, 'visa', '4242424242424242', 1, 2030, 'now')")
    assert oauth == {"id", "user_id", "provider", "scopes", "connected_at", "revoked_at"}
    assert not cards & {"number", "card_number", "pan", "cvc", "cvv"}
    assert all("token" not in column for column in oauth)


def test_password_hash_is_excluded_from_exports(seeded_demo):
    accounts = next(s for s in load_map(seeded_demo)["stores"] if s["name"] == "accounts")
    assert accounts["tables"][0]["exclude"] == ["password_hash"]
    with sqlite3.connect(sqlite_path(accounts["url"])) as db:
        (stored,) = db.execute("SELECT password_hash FROM users WHERE id = 1").fetchone()
    assert stored.startswith("demo-sha256$")
