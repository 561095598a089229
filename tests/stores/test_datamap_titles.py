"""A store and a table may carry a `title`: the name a person reads in place of the id, in
their language where `translations.<lang>.title` gives one, the id when the map has none."""

import pytest

from workflows.datamap import DataMapError, parse_datamap, table_title

MAP = """
[[stores]]
name = "billing"
kind = "sql"
url = "sqlite:///billing.db"
{store_title}
  [[stores.tables]]
  table = "invoices"
  match = {{ column = "email", identity = "email" }}
  on_erase = "delete"
  {table_title}
[[stores]]
name = "workspace_files"
kind = "files"
root = "/srv/files"
path = "{{email}}"
on_erase = "delete"
title = "Workspace files"
translations.ja.title = "ワークスペースのファイル"
"""


def load(store_title="", table_title_line=""):
    return parse_datamap(MAP.format(store_title=store_title, table_title=table_title_line),
                         "stores.toml")


def test_store_and_table_titles_are_read_and_translated():
    datamap = load('title = "Billing"\ntranslations.ja.title = "ご請求"',
                   'title = "Invoices"\n  translations.ja.title = "請求書"')
    billing = datamap.store("billing")
    assert (billing.title_for("en"), billing.title_for("ja"), billing.title_for("ja-JP")) == (
        "Billing", "ご請求", "ご請求")
    assert table_title(billing, "invoices", "ja") == "請求書"
    assert table_title(billing, "invoices", None) == "Invoices"


def test_without_titles_the_ids_are_shown():
    billing = load().store("billing")
    assert billing.title_for("ja") == "billing"
    assert table_title(billing, "invoices", "ja") == "invoices"
    assert table_title(billing, "unknown_table", "ja") == "unknown_table"
    assert table_title(None, "invoices", "ja") == "invoices"


def test_a_store_without_tables_gives_its_title_to_its_files():
    files = load().store("workspace_files")
    assert table_title(files, "files", "ja") == "ワークスペースのファイル"


@pytest.mark.parametrize("store_title, table_title_line, field", [
    ('title = ""', "", "'title': is empty"),
    ("title = 3", "", "'title': has the wrong type (int)"),
    ("", "title = 3", "'title': must be a text"),
    ("", 'title = " "', "'title': must be a text"),
])
def test_a_bad_title_is_refused_with_its_place(store_title, table_title_line, field):
    with pytest.raises(DataMapError) as refused:
        load(store_title, table_title_line)
    assert any(field in message and "store 'billing'" in message
               for message in refused.value.messages), refused.value.messages


def test_a_title_translation_needs_the_title():
    with pytest.raises(DataMapError) as refused:
        load('translations.ja.title = "ご請求"')
    assert "translates 'title', which is not set here" in str(refused.value)


def test_describe_gives_the_titles_a_person_reads():
    from workflows.stores import make_store
    datamap = load('title = "Billing"\ntranslations.ja.title = "ご請求"',
                   'title = "Invoices"\n  translations.ja.title = "請求書"')
    facts = make_store(datamap.store("billing")).describe("ja")
    assert facts["store"] == "billing" and facts["title"] == "ご請求"
    assert facts["table_titles"] == {"invoices": "請求書"}
