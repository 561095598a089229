"""Staging and archive assembly on real files: checksums, round trips, crash safety, escaping."""

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows import archive
from workflows.archive import build_archive, load_staged, stage_store
from workflows.archive_values import json_value
from workflows.stores.base import FileItem, ManualTask, Record

WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
STATEMENT = {
    "company": "CraftOS",
    "contact": "info@craftos.net",
    "regime": "gdpr",
    "request_type": "access",
    "stores": [
        {
            "store": "accounts",
            "kind": "sql",
            "purpose": "Provide and secure your account",
            "categories": ["account"],
            "recipients": ["Cloud provider"],
            "retention": "Account lifetime + 90 days",
            "source": "You",
            "on_erase": {"users": {"rule": "delete", "reason": None}},
        }
    ],
}


def file_item(store, path, data):
    return FileItem(store, path, len(data), lambda: io.BytesIO(data))


def account_items():
    yield Record("accounts", "users", {"id": 1, "email": "a@example.com", "name": "Ann"})
    yield Record("accounts", "users", {"id": 2, "email": "a@example.com", "nick": "x"})
    yield Record("accounts", "sessions", {"at": dt.datetime(2025, 1, 2, 3, 4, 5), "ok": True})
    yield file_item("accounts", "docs/note.txt", b"hello\n")
    yield file_item("accounts", "photo.jpg", bytes(range(256)) * 10)
    yield ManualTask("accounts", "access", "Export from the vendor dashboard")


def build(tmp_path, stores=None, statement=STATEMENT, name="dsr-R1.zip"):
    staging = tmp_path / "staging"
    for store, items in (stores or {"accounts": account_items()}).items():
        stage_store(staging, store, items)
    return build_archive(
        staging, tmp_path / name, reference="R1", generated_at=WHEN, statement=statement
    )


def test_manifest_checksums_and_sizes_match_every_zip_member(tmp_path):
    info = build(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = zf.namelist()
        assert names[:2] == ["index.html", "report.pdf"] and names[-1] == "manifest.json"
        assert [f["path"] for f in manifest["files"]] == names[:-1]
        for entry in manifest["files"]:
            data = zf.read(entry["path"])
            assert len(data) == entry["bytes"]
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert manifest["schema_version"] == 1 and manifest["reference"] == "R1"
    assert manifest["stores"]["accounts"] == {"records": {"users": 2, "sessions": 1}, "files": 2}
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert info.bytes == info.path.stat().st_size
    assert info.manifest == manifest


def test_zip_holds_exactly_the_staged_rows_and_files(tmp_path):
    info = build(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        assert json.loads(zf.read("data/accounts/users.json")) == [
            {"id": 1, "email": "a@example.com", "name": "Ann"},
            {"id": 2, "email": "a@example.com", "nick": "x"},
        ]
        assert json.loads(zf.read("data/accounts/sessions.json")) == [
            {"at": "2025-01-02T03:04:05", "ok": True}
        ]
        assert zf.read("files/accounts/docs/note.txt") == b"hello\n"
        assert zf.read("files/accounts/photo.jpg") == bytes(range(256)) * 10
        assert zf.getinfo("files/accounts/photo.jpg").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("data/accounts/users.json").compress_type == zipfile.ZIP_DEFLATED
        assert zf.testzip() is None


def test_csv_header_is_the_union_of_columns_and_rows_line_up(tmp_path):
    info = build(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        text = zf.read("data/accounts/users.csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["id", "email", "name", "nick"],
        ["1", "a@example.com", "Ann", ""],
        ["2", "a@example.com", "", "x"],
    ]


def test_csv_cell_that_looks_like_a_formula_is_shown_not_run(tmp_path):
    stage_store(tmp_path, "s", [Record("s", "t", {"v": "=HYPERLINK(1)", "n": -5})])
    text = (tmp_path / "s/data/t.csv").read_text()
    assert text.splitlines()[1] == "'=HYPERLINK(1),-5"
    assert json.loads((tmp_path / "s/data/t.json").read_text())[0]["v"] == "=HYPERLINK(1)"


def test_values_json_has_no_type_for_are_converted_deterministically():
    assert json_value(dt.date(2024, 2, 29)) == "2024-02-29"
    assert json_value(Decimal("10.50")) == "10.50"
    assert json_value(b"\xff\x00") == "/wA="
    assert json_value({1: {3, 1, 2}}) == {"1": [1, 2, 3]}
    assert json_value(float("nan")) == "nan"


@pytest.mark.parametrize(
    "hostile, expected",
    [
        ("../../../etc/passwd", "etc/passwd"),
        ("/abs/path.txt", "abs/path.txt"),
        ("a/../../b\x00c.txt", "a/b_c.txt"),
        ("C:\\windows\\x.dll", "C_/windows/x.dll"),
        ("..", "unnamed"),
    ],
)
def test_path_traversal_in_file_items_is_neutralised(tmp_path, hostile, expected):
    staging = tmp_path / "staging"
    stage_store(staging, "files", [file_item("files", hostile, b"x")])
    written = [p for p in staging.rglob("*") if p.is_file() and p.name != "staged.json"]
    assert written == [staging / "files" / "files" / expected]
    assert not (tmp_path / "etc").exists()


def test_two_files_sanitised_to_the_same_path_both_survive(tmp_path):
    stage_store(tmp_path, "s", [file_item("s", "./b.txt", b"1"), file_item("s", "b.txt", b"2")])
    assert (tmp_path / "s/files/b.txt").read_bytes() == b"1"
    assert (tmp_path / "s/files/b-2.txt").read_bytes() == b"2"


def test_file_and_folder_or_case_clashes_get_distinct_paths(tmp_path):
    items = [
        file_item("s", "a", b"1"),
        file_item("s", "a/b", b"2"),
        file_item("s", "c/d", b"3"),
        file_item("s", "C", b"4"),
        file_item("s", "Photo.JPG", b"5"),
        file_item("s", "photo.jpg", b"6"),
    ]
    stage_store(tmp_path, "s", items)
    files = {
        p.relative_to(tmp_path / "s/files").as_posix(): p.read_bytes()
        for p in (tmp_path / "s/files").rglob("*")
        if p.is_file()
    }
    assert files == {
        "a": b"1",
        "a_b": b"2",
        "c/d": b"3",
        "C-2": b"4",
        "Photo.JPG": b"5",
        "photo-2.jpg": b"6",
    }


def test_staging_twice_gives_the_same_files(tmp_path):
    first = stage_store(tmp_path, "accounts", account_items())
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    second = stage_store(tmp_path, "accounts", account_items())
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
    assert first == second == load_staged(tmp_path, "accounts")
    assert first.records == {"users": 2, "sessions": 1} and first.files == 2
    assert first.tasks == (ManualTask("accounts", "access", "Export from the vendor dashboard"),)
    assert [p.name for p in tmp_path.iterdir()] == ["accounts"]  # no temporary folder left


def test_store_that_fails_midway_keeps_the_previous_staging_whole(tmp_path):
    stage_store(tmp_path, "accounts", account_items())
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def broken():
        yield Record("accounts", "users", {"id": 9})
        raise ConnectionError("store went away")

    with pytest.raises(ConnectionError):
        stage_store(tmp_path, "accounts", broken())
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    with pytest.raises(ConnectionError):
        stage_store(tmp_path, "never", broken())
    with pytest.raises(FileNotFoundError):
        load_staged(tmp_path, "never")


def test_failing_report_leaves_no_file_at_target(tmp_path, monkeypatch):
    def broken_report(*args):
        raise ValueError("bad statement")

    monkeypatch.setattr(archive, "art15_report", broken_report)
    with pytest.raises(ValueError):
        build(tmp_path)
    assert not (tmp_path / "dsr-R1.zip").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["staging"]


def test_crash_while_writing_the_zip_keeps_the_old_archive_and_no_part_file(tmp_path):
    first = build(tmp_path)
    old = first.path.read_bytes()
    # A staged file truncated behind our back makes assembly fail after some members.
    (tmp_path / "staging/accounts/files/photo.jpg").write_bytes(b"short")
    with pytest.raises(RuntimeError, match="changed size"):
        build_archive(
            tmp_path / "staging", first.path, reference="R1", generated_at=WHEN, statement=STATEMENT
        )
    assert first.path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dsr-R1.zip", "staging"]


def test_same_input_gives_the_same_archive_bytes(tmp_path):
    one = build(tmp_path / "a")
    two = build(tmp_path / "b")
    assert one.sha256 == two.sha256


def test_index_escapes_hostile_values_and_loads_nothing_external(tmp_path):
    hostile = '<script>alert("x")</script>'
    statement = {**STATEMENT, "stores": [{**STATEMENT["stores"][0], "purpose": hostile}]}
    items = [
        Record("accounts", "users", {"name": hostile, hostile: 1}),
        file_item("accounts", "<img src=x onerror=alert(1)>.txt", b"x"),
    ]
    info = build(tmp_path, {"accounts": items}, statement)
    with zipfile.ZipFile(info.path) as zf:
        page = zf.read("index.html").decode()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "http:" not in page and "https:" not in page and "<link" not in page
    assert 'href="data/accounts/users.json"' in page


def test_index_shows_store_facts_counts_and_links(tmp_path):
    info = build(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        page = zf.read("index.html").decode()
    for text in (
        "Provide and secure your account",
        "Account lifetime + 90 days",
        "Cloud provider",
        "users — 2 records",
        'href="files/accounts/docs/note.txt"',
        'href="data/accounts/users.csv"',
        "a@example.com",
    ):
        assert text in page


rows = st.lists(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.floats(allow_nan=False)
        | st.binary(max_size=8)
        | st.dates()
        | st.decimals(allow_nan=False, places=2),
        max_size=5,
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=rows,
    files=st.dictionaries(st.text(min_size=1, max_size=12), st.binary(max_size=64), max_size=4),
)
def test_random_rows_and_files_round_trip_through_the_archive(tmp_path_factory, rows, files):
    tmp = tmp_path_factory.mktemp("rt")
    items = [Record("s", "t", row) for row in rows]
    items += [file_item("s", path, data) for path, data in files.items()]
    info = build(tmp, {"s": items}, {**STATEMENT, "stores": []})
    with zipfile.ZipFile(info.path) as zf:
        assert json.loads(zf.read("data/s/t.json")) == [json_value(r) for r in rows]
        payloads = sorted(zf.read(n) for n in zf.namelist() if n.startswith("files/s/"))
        for entry in info.manifest["files"]:
            assert hashlib.sha256(zf.read(entry["path"])).hexdigest() == entry["sha256"]
    assert payloads == sorted(files.values())
