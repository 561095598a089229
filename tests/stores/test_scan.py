"""Planning across stores: identities found in SQL feed files; scan counts; check goes live."""

from __future__ import annotations

import pytest

from tests.stores.conftest import EMAILS
from workflows.datamap import load_datamap
from workflows.scan import check_datamap, resolve_identities, scan


@pytest.fixture
def company(sqlite_people, tmp_path):
    root = tmp_path / "files"
    (root / "1").mkdir(parents=True)
    (root / "1" / "notes.txt").write_text("alice")
    (root / "2").mkdir()
    (root / "2" / "b.txt").write_text("bob")
    path = tmp_path / "stores.toml"
    path.write_text(
        sqlite_people.toml()
        + f'[[stores]]\nname = "ws"\nkind = "files"\nroot = "{root}"\npath = "{{user_id}}"\n'
        'on_erase = "delete"\n'
        '[[stores]]\nname = "psp"\nkind = "manual"\ninstructions = "Ask the processor."\n'
    )
    return path


def test_identities_found_in_sql_lead_to_the_persons_folder(company):
    identities = resolve_identities(load_datamap(company), EMAILS[1])
    assert identities["user_id"] == {"1"}


def test_scan_counts_what_each_store_holds_for_the_person(company):
    counts = scan(load_datamap(company), EMAILS[1].upper())
    assert counts["ws"] == {"files": 1}
    assert counts["psp"] == {}
    assert counts["app"]["users"] == 1 and counts["app"]["cards"] == 1


def test_scan_of_an_unknown_email_finds_nothing(company):
    counts = scan(load_datamap(company), "nobody@example.com")
    assert all(n == 0 for n in counts["app"].values()) and counts["ws"] == {}


def test_check_datamap_passes_a_good_map_against_live_stores(company):
    assert check_datamap(company) == []


def test_check_datamap_reports_live_problems_with_the_line(company, tmp_path):
    text = company.read_text().replace(
        'match = { column = "owner_id", identity = "user_id" }\n  on_erase = "delete"',
        'match = { column = "owner", identity = "user_id" }\n  on_erase = "delete"',
    )
    text = text.replace(f'root = "{tmp_path / "files"}"', f'root = "{tmp_path / "gone"}"')
    company.write_text(text)
    line = text.splitlines().index('  match = { column = "owner", identity = "user_id" }') + 1
    problems = check_datamap(company)
    assert (
        f"{company}:{line}: store 'app', table 'cards', field 'match': "
        "no column 'owner' in the live table" in problems
    )
    assert any("store 'ws', field 'root': root folder does not exist" in p for p in problems)
