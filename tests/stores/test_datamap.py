"""The data map loader refuses bad files with messages naming the store, table, field and line."""

from __future__ import annotations

import pytest

from workflows.datamap import DataMapError, load_datamap, parse_datamap
from workflows.scan import check_datamap

GOOD = """\
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///accounts.db"
purpose = "Provide and secure your account"
categories = ["contact", "account"]
recipients = ["Cloud infrastructure provider"]
  [[stores.tables]]
  table = "users"
  match = { column = "email", identity = "email" }
  provides = { user_id = "id" }
  exclude = ["password_hash"]
  correctable = ["name", "email"]
  on_erase = "delete"
  [[stores.tables]]
  table = "invoices"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "retain"
  retain_reason = "Tax law"
[[stores]]
name = "workspace-files"
kind = "files"
root = "instance/files"
path = "{user_id}"
on_erase = "delete"
[[stores]]
name = "memory"
kind = "chroma"
path = "instance/chroma"
collection = "agent-memory"
where = { user_id = "{user_id}" }
on_erase = "delete"
[[stores]]
name = "crm"
kind = "http"
url = "https://crm.example/dsr"
timeout = 3
[[stores]]
name = "payments"
kind = "manual"
instructions = "Export the customer from the processor dashboard."
"""


MEMORY, INVOICES, CHROMA = 'name = "memory"', 'table = "invoices"', 'kind = "chroma"'


def errors_for(text: str) -> list[str]:
    with pytest.raises(DataMapError) as caught:
        parse_datamap(text, "stores.toml")
    return caught.value.messages


def line_of(text: str, needle: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = lines.index(after) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_good_datamap_loads_into_frozen_dataclasses(tmp_path):
    path = tmp_path / "stores.toml"
    path.write_text(GOOD)
    datamap = load_datamap(path)
    assert [s.name for s in datamap.stores] == [
        "accounts",
        "workspace-files",
        "memory",
        "crm",
        "payments",
    ]
    users = datamap.store("accounts").tables[0]
    assert users.provides == {"user_id": "id"} and users.exclude == ("password_hash",)
    assert datamap.store("accounts").line == 2 and users.line == 9
    with pytest.raises(AttributeError):
        datamap.stores[0].name = "x"


def test_unknown_kind_is_refused_with_its_line():
    text = GOOD.replace('kind = "http"', 'kind = "ftp"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'ftp')}: store 'crm', field 'kind': "
        "unknown kind 'ftp' (expected one of sql, files, chroma, http, manual)"
    ]


def test_missing_required_key_names_store_and_key():
    text = GOOD.replace('collection = "agent-memory"\n', "")
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, MEMORY) - 1}: store 'memory': "
        "missing required key 'collection' for kind 'chroma'"
    ]


def test_bad_on_erase_names_store_table_field_and_line():
    text = GOOD.replace('on_erase = "delete"', 'on_erase = "shred"', 1)
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'shred')}: store 'accounts', table 'users', "
        "field 'on_erase': bad on_erase 'shred' (expected one of delete, anonymize, retain)"
    ]


def test_retain_without_reason_is_refused():
    text = GOOD.replace('  retain_reason = "Tax law"\n', "")
    [message] = errors_for(text)
    assert message.startswith(
        f"stores.toml:{line_of(text, INVOICES) - 1}: store 'accounts', "
        "table 'invoices', field 'retain_reason': on_erase = \"retain\" needs a retain_reason"
    )


def test_anonymize_is_refused_for_files():
    text = GOOD.replace(
        'path = "{user_id}"\non_erase = "delete"', 'path = "{user_id}"\non_erase = "anonymize"'
    )
    [message] = errors_for(text)
    assert (
        "store 'workspace-files', field 'on_erase': "
        "bad on_erase 'anonymize' (expected one of delete, retain)" in message
    )


def test_duplicate_store_names_are_refused():
    text = GOOD.replace('name = "crm"', 'name = "memory"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, MEMORY, CHROMA)}: "
        "store 'memory', field 'name': duplicate store name (first declared as store #3)"
    ]


def test_identity_no_table_provides_is_refused():
    text = GOOD.replace(
        'match = { column = "user_id", identity = "user_id" }',
        'match = { column = "user_id", identity = "account_id" }',
    )
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'account_id')}: "
        "store 'accounts', table 'invoices', field 'match': "
        "identity 'account_id' is provided by no table (add `provides` to the table that holds it)"
    ]


def test_cycle_in_identity_graph_is_refused():
    text = GOOD.replace(
        '  retain_reason = "Tax law"\n',
        '  retain_reason = "Tax law"\n  provides = { workspace_id = "workspace_id" }\n'
        '  [[stores.tables]]\n  table = "members"\n'
        '  match = { column = "workspace_id", identity = "workspace_id" }\n'
        '  provides = { user_id = "user_id" }\n  on_erase = "delete"\n',
    )
    assert errors_for(text) == [
        "stores.toml: identity graph has a cycle: user_id -> workspace_id -> user_id "
        "(each identity must be discovered from the email in one direction)"
    ]


def test_files_template_with_unknown_placeholder_is_refused():
    text = GOOD.replace('path = "{user_id}"', 'path = "{tenant}/{user_id}"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'tenant')}: store 'workspace-files', field 'path': "
        "unknown placeholder {tenant}: no table provides identity 'tenant'"
    ]


def test_files_template_escaping_root_is_refused():
    text = GOOD.replace('path = "{user_id}"', 'path = "../{user_id}"')
    assert "path template must stay inside root" in errors_for(text)[0]


def test_unknown_key_is_refused_so_typos_do_not_pass_silently():
    text = GOOD.replace('  exclude = ["password_hash"]', '  exlude = ["password_hash"]')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'exlude')}: store 'accounts', table 'users', "
        "field 'exlude': unknown key 'exlude'"
    ]


def test_all_problems_are_reported_at_once():
    text = GOOD.replace('kind = "http"', 'kind = "ftp"').replace(
        'on_erase = "retain"', 'on_erase = "keep"'
    )
    assert len(errors_for(text)) == 2


def test_invalid_toml_points_at_the_line():
    [message] = errors_for(GOOD.replace('name = "crm"', "name = crm"))
    assert (
        message.startswith("stores.toml: not valid TOML:")
        and f"line {line_of(GOOD, 'crm')}" in message
    )


def test_check_datamap_reports_unreadable_file(tmp_path):
    assert check_datamap(tmp_path / "missing.toml") == [
        f"{tmp_path / 'missing.toml'}: cannot read the data map: No such file or directory"
    ]
