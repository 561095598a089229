"""Names and values from a store that used to break an archive, a PDF or a match for good."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile

import pytest
import sqlalchemy as sa

from tests.pdf_support import pdf_unicode_text
from workflows.archive import build_archive, stage_store
from workflows.certificate import deletion_certificate
from workflows.datamap import DataMapError, parse_datamap
from workflows.reports import art15_report
from workflows.stores import FileItem, Record, make_store

WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
STATEMENT = {
    "company": "CraftOS",
    "contact": "info@craftos.net",
    "regime": "gdpr",
    "request_type": "access",
    "stores": [],
}
ACCOUNTS = """\
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///accounts.db"
  [[stores.tables]]
  table = "users"
  match = { column = "email", identity = "email" }
  provides = { user_id = "id" }
  on_erase = "delete"
"""
LONE_SURROGATE = json.loads('"\\ud800"')  # what an http store's JSON may hand us


def files_store_toml(name: str, root) -> str:
    return (
        f'[[stores]]\nname = "{name}"\nkind = "files"\nroot = "{root}"\n'
        'path = "{user_id}"\non_erase = "delete"\n'
    )


def file_item(store: str, path: str, data: bytes = b"x") -> FileItem:
    return FileItem(store, path, len(data), lambda: io.BytesIO(data))


def build(tmp_path, stores: dict) -> zipfile.ZipFile:
    staging = tmp_path / "staging"
    for store, items in stores.items():
        stage_store(staging, store, items)
    info = build_archive(
        staging, tmp_path / "a.zip", reference="R1", generated_at=WHEN, statement=STATEMENT
    )
    return zipfile.ZipFile(info.path)


def assert_names_fit_a_file_system(names: list[str]) -> None:
    for name in names:
        assert all(len(part.encode("utf-8")) <= 255 for part in name.split("/")), name


def test_text_utf8_cannot_carry_is_archived_as_replacement_characters(tmp_path):
    root = tmp_path / "root"
    (root / "42").mkdir(parents=True)
    # A Latin-1 file name: os.walk gives "caf\udce9.txt". Its bytes must stay the person's.
    with open(os.path.join(os.fsencode(root / "42"), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"hi")
    files = make_store(parse_datamap(ACCOUNTS + files_store_toml("workspace", root)).store(
        "workspace"))
    long_name = "42/" + "日" * 100 + ".txt"  # 100 characters, 304 bytes
    remote = [
        Record("remote", "notes", {"note": "a" + LONE_SURROGATE + "b"}),
        Record("remote", "t" + LONE_SURROGATE, {"c" + LONE_SURROGATE: 1}),
        file_item("remote", long_name, b"long"),
    ]

    zf = build(tmp_path, {"workspace": files.find({"user_id": {"42"}}), "remote": iter(remote)})

    assert zf.read("files/workspace/42/caf\ufffd.txt") == b"hi"
    assert json.loads(zf.read("data/remote/notes.json")) == [{"note": "a\ufffdb"}]
    tables = json.loads(zf.read("manifest.json"))["stores"]["remote"]["records"]
    assert tables == {"notes": 1, "t\ufffd": 1}
    [long_member] = [n for n in zf.namelist() if n.startswith("files/remote/42/日")]
    assert long_member.endswith(".txt") and zf.read(long_member) == b"long"
    assert_names_fit_a_file_system(zf.namelist())


def test_the_pdfs_print_a_lone_surrogate_as_a_replacement_character():
    statement = {
        **STATEMENT,
        "reference": "R1",
        "generated_at": WHEN.isoformat(),
        "stores": [{"store": "remote", "purpose": "Sales" + LONE_SURROGATE}],
    }
    certificate = {
        "company": "CraftOS",
        "contact": "info@craftos.net",
        "reference": "R1",
        "completed_at": WHEN.isoformat(),
        "backups_roll_off": "2026-08-28", "backup_rolloff_days": 180,
        "stores": [{"store": "remote", "outcomes": [
            {"table": "deals" + LONE_SURROGATE, "action": "deleted", "count": 2}]}],
    }
    for build_pdf, data in ((art15_report, statement), (deletion_certificate, certificate)):
        out = io.BytesIO()
        build_pdf(out, data)
        assert "\ufffd" in pdf_unicode_text(out.getvalue())


def test_a_13_kb_retain_reason_prints_across_pages_on_the_certificate():
    reason = "Kept under the commercial code. " * 420  # 13,440 characters: taller than a page
    out = io.BytesIO()
    deletion_certificate(out, {
        "company": "CraftOS",
        "contact": "info@craftos.net",
        "reference": "R1",
        "completed_at": WHEN.isoformat(),
        "backups_roll_off": "2026-08-28", "backup_rolloff_days": 180,
        "stores": [{"store": "crm", "outcomes": [
            {"table": "deals", "action": "retained", "count": 2, "reason": reason}]}],
    })
    text = pdf_unicode_text(out.getvalue())
    assert text.count("commercial") == 420
    assert "Backups" in text  # the rest of the certificate follows the long row


def test_store_names_differing_only_in_case_are_refused_naming_both(tmp_path):
    text = ACCOUNTS + files_store_toml("Files", tmp_path) + files_store_toml("files", tmp_path)
    with pytest.raises(DataMapError) as raised:
        parse_datamap(text)
    assert (
        "store 'files', field 'name': duplicate store name (first declared as store #2: "
        "'Files', the same archive folder on a case-insensitive disk)"
    ) in str(raised.value)


def test_a_flattened_case_clash_stays_within_the_file_name_byte_limit(tmp_path):
    deep = "42/a/" + "/".join(["d" * 100] * 4) + "/f.txt"  # "42/A" is a file: flattened

    zf = build(tmp_path, {"ws": iter([file_item("ws", "42/A", b"A"),
                                      file_item("ws", deep, b"deep")])})

    [flat] = [n for n in zf.namelist() if n.startswith("files/ws/42_a_")]
    assert flat.endswith(".txt") and zf.read(flat) == b"deep"
    assert zf.read("files/ws/42/A") == b"A"
    assert_names_fit_a_file_system(zf.namelist())


@pytest.mark.parametrize("lookalike", ["٤٢", " 42\n", "4_2", "+42", "²", "9" * 20, "9" * 5000])
def test_only_ascii_digits_match_an_integer_id_in_sql(tmp_path, lookalike):
    path = tmp_path / "people.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (user_id INTEGER, body TEXT)"))
        conn.execute(sa.text("INSERT INTO notes VALUES (42, 'someone else''s note')"))
    engine.dispose()
    text = ACCOUNTS.replace("sqlite:///accounts.db", f"sqlite:///{path}") + (
        '[[stores]]\nname = "notes"\nkind = "sql"\n'
        f'url = "sqlite:///{path}"\n'
        '  [[stores.tables]]\n  table = "notes"\n'
        '  match = { column = "user_id", identity = "user_id" }\n  on_erase = "delete"\n'
    )
    store = make_store(parse_datamap(text).store("notes"))
    try:
        assert [r.row for r in store.find({"user_id": {"42"}})] == [
            {"user_id": 42, "body": "someone else's note"}
        ]
        assert list(store.find({"user_id": {lookalike}})) == []
    finally:
        store.close()


@pytest.mark.parametrize("lookalike", ["٤٢", "²"])
def test_only_ascii_digits_match_an_integer_id_in_chroma(tmp_path, lookalike):
    chromadb = pytest.importorskip("chromadb", reason="chromadb not installed")
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection("memory", embedding_function=None)
    collection.add(ids=["m1"], documents=["forty-two's"], metadatas=[{"user_id": 42}],
                   embeddings=[[0.1, 0.2, 0.3]])
    text = ACCOUNTS + (
        f'[[stores]]\nname = "memory"\nkind = "chroma"\npath = "{tmp_path / "chroma"}"\n'
        'collection = "memory"\nwhere = { user_id = "{user_id}" }\non_erase = "delete"\n'
    )
    store = make_store(parse_datamap(text).store("memory"))
    assert [r.row["id"] for r in store.find({"user_id": {"42"}})] == ["m1"]
    assert list(store.find({"user_id": {lookalike}})) == []
