"""The OAuth tokens are a store of their own: stated, never exported, erased with the person.

Policy sections 2.1, 2.3 and 5: tokens are stored encrypted and kept "until revoked or 30 days
after deletion". Before the vault was in the map, erasure removed only the connection records,
and the certificate's "deleted" left working credentials to the person's mailbox behind.
"""

from __future__ import annotations

import sqlite3

from tests.demo.conftest import erase_everywhere, load_map, sqlite_path
from workflows.datamap import load_datamap
from workflows.scan import resolve_identities
from workflows.stores import make_store

ALICE = "alice@example.com"


def vault(datamap_path) -> dict:
    return next(s for s in load_map(datamap_path)["stores"] if s["name"] == "token_vault")


def test_each_live_connection_has_a_sealed_token_and_a_revoked_one_none(seeded_demo):
    with sqlite3.connect(seeded_demo.parent / "craftos.db") as db:
        live = db.execute("SELECT id, user_id, provider FROM oauth_connections "
                          "WHERE revoked_at IS NULL ORDER BY id").fetchall()
        revoked = {row[0] for row in db.execute(
            "SELECT id FROM oauth_connections WHERE revoked_at IS NOT NULL")}
    with sqlite3.connect(sqlite_path(vault(seeded_demo)["url"])) as db:
        sealed = db.execute("SELECT connection_id, user_id, provider FROM sealed_tokens "
                            "ORDER BY connection_id").fetchall()
        values = [v for (v,) in db.execute("SELECT sealed_token FROM sealed_tokens")]
    assert sealed == live and len(live) > 3
    assert revoked == {4}  # Kenji's: its token went when he revoked it
    assert all(v.startswith("demo-aes256gcm$") for v in values)


def test_the_statement_says_how_long_tokens_stay_and_that_they_are_withheld(seeded_demo):
    store = vault(seeded_demo)
    assert store["retention"] == ("Until you revoke it; deleted at the latest 30 days after your "
                                  "account is deleted (policy sections 2.3 and 5)")
    assert any("OAuth tokens" in c and "withheld from your archive" in c
               for c in store["categories"])
    assert store["tables"][0]["exclude"] == ["sealed_token"]
    assert store["tables"][0]["on_erase"] == "delete"
    # The connection records outlive a revocation; their retention must say so.
    connections = next(s for s in load_map(seeded_demo)["stores"]
                       if s["name"] == "oauth_connections")
    assert "revoked connections included" in connections["retention"]


def test_alices_tokens_are_found_for_her_but_never_exported(seeded_demo):
    datamap = load_datamap(seeded_demo)
    store = make_store(datamap.store("token_vault"))
    try:
        rows = [item.row for item in store.find(resolve_identities(datamap, ALICE))]
    finally:
        store.close()
    assert sorted(r["provider"] for r in rows) == ["google", "slack"]
    assert all("sealed_token" not in r for r in rows)
    assert not any("demo-aes256gcm$" in str(v) for r in rows for v in r.values())


def test_erasing_alice_deletes_her_tokens_and_keeps_bobs(small_demo):
    erase_everywhere(small_demo, ALICE)
    with sqlite3.connect(small_demo.store("token_vault").url.removeprefix("sqlite:///")) as db:
        left = db.execute("SELECT user_id, provider FROM sealed_tokens ORDER BY user_id").fetchall()
    assert left == [(2, "microsoft")]
