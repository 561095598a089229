"""The sql connector against real SQLite and PostgreSQL: identity graph, erase, correct."""

from __future__ import annotations

import time

import pytest

from tests.stores.conftest import ALICE, BOB, CAROL, EMAILS
from workflows.datamap import parse_datamap
from workflows.scan import resolve_identities, scan
from workflows.stores import Record, StoreUnavailable, make_store

ONE_TABLE = (
    '[[stores.tables]]\ntable = "t"\nmatch = { column = "email", identity = "email" }\n'
    'on_erase = "delete"\n'
)


def found_ids(store, identities) -> dict[str, set]:
    """table -> primary-key-ish ids of the rows find() returned."""
    out: dict[str, set] = {}
    for item in store.find(identities):
        assert isinstance(item, Record)
        row = item.row
        key = row.get("id", (row.get("ticket_id") or row.get("workspace_id"), row.get("user_id")))
        out.setdefault(item.table, set()).add(key)
    return out


def alice_identities(people):
    return resolve_identities(people.datamap(), "  alice@EXAMPLE.com ")


def test_identity_graph_resolves_email_to_user_id_case_insensitively(people):
    assert alice_identities(people) == {"email": {"alice@example.com"}, "user_id": {str(ALICE)}}


def test_find_returns_exactly_alices_rows_not_shared_or_referenced_ones(people):
    store = make_store(people.datamap().stores[0])
    got = found_ids(store, alice_identities(people))
    assert got == {
        "users": {ALICE},
        "workspaces": {10},  # she owns it; bob's membership row is not hers
        "documents": {100},  # bob's document in her workspace is not hers
        "tickets": {20},
        "ticket_participants": {(20, ALICE)},
        "ticket_messages": {200},  # bob's message in the shared ticket is not hers
        "cards": {30},  # bob's card 31 paid her order, but it stays bob's
        "orders": {40},
        "invoices": {50},
    }
    store.close()


def test_find_drops_excluded_columns(people):
    store = make_store(people.datamap().stores[0])
    users = [i.row for i in store.find(alice_identities(people)) if i.table == "users"]
    assert users == [{"id": ALICE, "email": EMAILS[ALICE], "name": "Alice"}]
    store.close()


def test_scan_counts_per_table(people):
    counts = scan(people.datamap(), EMAILS[BOB])
    assert counts["app"]["documents"] == 2
    assert counts["app"]["ticket_messages"] == 1
    assert counts["app"]["workspace_members"] == 1


def test_erase_obeys_each_rule_and_keeps_other_peoples_rows(people):
    store = make_store(people.datamap().stores[0])
    identities = alice_identities(people)
    result = store.erase(identities)
    outcomes = {o.table: (o.action, o.count) for o in result.outcomes}
    assert outcomes["users"] == ("deleted", 1)
    assert outcomes["workspaces"] == ("anonymized", 1)
    assert outcomes["tickets"] == ("anonymized", 1)
    assert outcomes["invoices"] == ("retained", 1)
    assert [o.reason for o in result.outcomes if o.table == "invoices"] == [
        "Tax law: billing records are kept 7 years"
    ]

    assert [u["id"] for u in people.rows("users")] == [BOB, CAROL]
    # The shared workspace survives for bob, only its owner link is gone.
    assert people.rows("workspaces")[0] == {"id": 10, "owner_id": None, "name": "Alice & Bob"}
    assert people.rows("workspace_members") == [
        {"workspace_id": 10, "user_id": BOB},
        {"workspace_id": 11, "user_id": CAROL},
    ]
    assert [d["id"] for d in people.rows("documents")] == [101, 102]
    # The shared ticket stays for bob; default anonymize blanks its NOT NULL subject with a marker.
    assert people.rows("tickets")[0] == {"id": 20, "opened_by": None, "subject": "[erased]"}
    assert people.rows("ticket_participants") == [
        {"ticket_id": 20, "user_id": BOB},
        {"ticket_id": 21, "user_id": CAROL},
    ]
    assert [m["id"] for m in people.rows("ticket_messages")] == [201, 202]
    assert [c["id"] for c in people.rows("cards")] == [31]
    assert [o["id"] for o in people.rows("orders")] == [41]
    assert [i["id"] for i in people.rows("invoices")] == [50, 51]
    store.close()


def test_erase_twice_gives_same_state_and_erases_nothing_the_second_time(people):
    store = make_store(people.datamap().stores[0])
    identities = alice_identities(people)
    store.erase(identities)
    before = {
        t: people.rows(t) for t in ("users", "workspaces", "tickets", "invoices", "documents")
    }
    again = store.erase(identities)
    assert again.erased == 0
    assert {t: people.rows(t) for t in before} == before
    # Only retained rows can still be found with the identities resolved before erasure.
    assert {i.table for i in store.find(identities)} == {"invoices"}
    store.close()


def test_correction_changes_only_named_correctable_fields_on_the_persons_rows(people):
    store = make_store(people.datamap().stores[0])
    identities = alice_identities(people)
    result = store.correct(identities, {"name": "Alice B.", "body": "fixed", "amount": 999})
    assert result.counts == {"users": 1, "ticket_messages": 1}
    users = {u["id"]: u for u in people.rows("users")}
    assert users[ALICE]["name"] == "Alice B." and users[ALICE]["email"] == EMAILS[ALICE]
    assert users[BOB]["name"] == "Bob"
    messages = {m["id"]: m["body"] for m in people.rows("ticket_messages")}
    assert messages == {200: "fixed", 201: "me too", 202: "refund please"}
    # amount is not correctable anywhere: untouched.
    assert [o["amount"] for o in people.rows("orders")] == [5, 7]
    store.close()


def test_correcting_the_email_updates_the_account_that_matched_the_old_one(people):
    store = make_store(people.datamap().stores[0])
    store.correct(alice_identities(people), {"email": "alice@new.example"})
    assert {u["id"]: u["email"] for u in people.rows("users")}[ALICE] == "alice@new.example"
    store.close()


def test_check_reports_missing_table_and_column_with_store_table_field_and_line(sqlite_people):
    text = (
        sqlite_people.toml()
        .replace('table = "cards"', 'table = "cardz"')
        .replace('exclude = ["password_hash"]', 'exclude = ["pasword_hash"]')
    )
    store = make_store(parse_datamap(text, "stores.toml").stores[0])
    problems = store.check()
    lines = text.splitlines()
    table_line = lines.index('  table = "cardz"') + 1
    exclude_line = lines.index('  exclude = ["pasword_hash"]') + 1
    assert (
        f"stores.toml:{table_line}: store 'app', table 'cardz', field 'table': "
        "no such table in the live database"
    ) in problems
    assert (
        f"stores.toml:{exclude_line}: store 'app', table 'users', field 'exclude': "
        "no column 'pasword_hash' in the live table"
    ) in problems


def test_missing_sqlite_file_is_an_error_not_a_new_empty_database(tmp_path):
    text = (
        f'[[stores]]\nname = "gone"\nkind = "sql"\nurl = "sqlite:///{tmp_path}/nope.db"\n'
        + ONE_TABLE
    )
    store = make_store(parse_datamap(text).stores[0])
    with pytest.raises(StoreUnavailable, match="does not exist"):
        list(store.find({"email": {"a@b.c"}}))
    assert not (tmp_path / "nope.db").exists()


def test_down_postgres_fails_fast_with_a_clear_error():
    text = (
        '[[stores]]\nname = "pg"\nkind = "sql"\n'
        'url = "postgresql://nobody@127.0.0.1:1/x"\ntimeout = 2\n' + ONE_TABLE
    )
    store = make_store(parse_datamap(text).stores[0])
    started = time.monotonic()
    with pytest.raises(
        StoreUnavailable, match="store 'pg': cannot reach postgresql database 127.0.0.1"
    ):
        store.erase({"email": {"a@b.c"}})
    assert time.monotonic() - started < 5
