"""The data map's `portable` key: a boolean per sql table or per store of the other kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stores.test_datamap import errors_for, line_of
from workflows.archive_scope import export_part, left_out_of_export
from workflows.datamap import parse_datamap
from workflows.demo.seeding import render_datamap

MAP = """\
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///accounts.db"
  [[stores.tables]]
  table = "users"
  match = { column = "email", identity = "email" }
  provides = { user_id = "id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "risk_scores"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "delete"
  portable = false
[[stores]]
name = "workspace-files"
kind = "files"
root = "instance/files"
path = "{user_id}"
on_erase = "delete"
[[stores]]
name = "notes"
kind = "manual"
instructions = "Copy the helpdesk notes."
portable = false
"""


def test_portable_defaults_to_true_and_false_is_kept_per_table_and_store():
    datamap = parse_datamap(MAP)
    users, scores = datamap.store("accounts").tables
    assert users.portable is True and scores.portable is False
    assert datamap.store("workspace-files").portable is True
    assert datamap.store("notes").portable is False


def test_a_table_portable_that_is_not_a_boolean_names_store_table_and_line():
    text = MAP.replace("portable = false", 'portable = "no"', 1)
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'portable')}: store 'accounts', table 'risk_scores', "
        "field 'portable': must be true or false, not str 'no'"
    ]


def test_a_store_portable_that_is_not_a_boolean_names_store_and_line():
    text = MAP.replace('on_erase = "delete"\n[[stores]]\nname = "notes"',
                       'on_erase = "delete"\nportable = 0\n[[stores]]\nname = "notes"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'portable = 0')}: store 'workspace-files', "
        "field 'portable': must be true or false, not int 0"
    ]


def test_portable_on_a_sql_store_is_refused_and_points_at_its_tables():
    text = MAP.replace('url = "sqlite:///accounts.db"\n',
                       'url = "sqlite:///accounts.db"\nportable = false\n')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'portable = false')}: store 'accounts', field 'portable': "
        "unknown key 'portable' for kind 'sql' (a sql store sets it per [[stores.tables]])"
    ]


def test_export_covers_the_portable_part_and_names_the_rest():
    datamap = parse_datamap(MAP)
    accounts = export_part(datamap.store("accounts"))
    assert [t.table for t in accounts.tables] == ["users"]
    assert export_part(datamap.store("workspace-files")) is datamap.store("workspace-files")
    assert export_part(datamap.store("notes")) is None
    assert left_out_of_export(datamap) == [
        {"store": "accounts", "whole_store": False, "tables": ["risk_scores"]},
        {"store": "notes", "whole_store": True, "tables": []},
    ]


@pytest.mark.parametrize("with_chroma", [False, True])
def test_demo_exports_everything_the_person_provided_but_what_was_observed(with_chroma):
    """Usage analytics and the instance's CPU/bandwidth metering are observed, not provided."""
    datamap = parse_datamap(render_datamap(Path("/demo"), with_chroma))
    assert left_out_of_export(datamap) == [
        {"store": "instance_metrics", "whole_store": True, "tables": ["instance_usage"]},
        {"store": "analytics", "whole_store": True, "tables": ["usage_analytics"]}]
