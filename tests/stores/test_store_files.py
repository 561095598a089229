"""The files connector: the person's folder only, streamed, erased, never escaping the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workflows.datamap import parse_datamap
from workflows.stores import FileItem, make_store


def files_store(root: Path, on_erase: str = "delete", path: str = "{user_id}"):
    reason = 'retain_reason = "Contract"\n' if on_erase == "retain" else ""
    text = (
        '[[stores]]\nname = "acc"\nkind = "sql"\nurl = "sqlite:///x.db"\n'
        '[[stores.tables]]\ntable = "users"\nmatch = { column = "email", identity = "email" }\n'
        'provides = { user_id = "id" }\non_erase = "delete"\n'
        f'[[stores]]\nname = "ws"\nkind = "files"\nroot = "{root}"\npath = "{path}"\n'
        f'on_erase = "{on_erase}"\n{reason}'
    )
    return make_store(parse_datamap(text).store("ws"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for user, files in {
        "1": {"a.txt": b"alice", "sub/b.bin": b"\0" * 3000},
        "2": {"c.txt": b"bob"},
    }.items():
        for name, data in files.items():
            path = root / user / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def test_find_streams_only_the_persons_folder(root):
    items = list(files_store(root).find({"user_id": {"1"}}))
    assert all(isinstance(i, FileItem) for i in items)
    assert {i.path: i.size for i in items} == {"1/a.txt": 5, "1/sub/b.bin": 3000}
    by_path = {i.path: i for i in items}
    assert b"".join(by_path["1/sub/b.bin"].chunks(size=1024)) == b"\0" * 3000
    assert [len(c) for c in by_path["1/sub/b.bin"].chunks(size=1024)] == [1024, 1024, 952]


def test_identity_value_with_dotdot_never_becomes_a_path(root, tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s.txt").write_text("outside")
    store = files_store(root)
    for hostile in ("..", "../secret", "1/../2", "/etc", ""):
        assert list(store.find({"user_id": {hostile}})) == []
    assert store.erase({"user_id": {"..", "../secret"}}).erased == 0
    assert (tmp_path / "secret" / "s.txt").exists() and (root / "2" / "c.txt").exists()


def test_symlinked_person_folder_escaping_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.txt").write_text("not yours")
    os.symlink(outside, root / "3")
    store = files_store(root)
    assert list(store.find({"user_id": {"3"}})) == []
    assert store.erase({"user_id": {"3"}}).erased == 0
    assert (outside / "x.txt").exists()


def test_symlinked_person_folder_pointing_at_another_person_is_refused(root):
    os.symlink(root / "2", root / "4")
    assert list(files_store(root).find({"user_id": {"4"}})) == []


def test_symlinked_file_inside_the_folder_is_skipped_not_followed(root, tmp_path):
    (tmp_path / "passwd").write_text("outside")
    os.symlink(tmp_path / "passwd", root / "1" / "link.txt")
    paths = {i.path for i in files_store(root).find({"user_id": {"1"}})}
    assert paths == {"1/a.txt", "1/sub/b.bin"}


def test_erase_removes_the_folder_and_is_idempotent(root):
    store = files_store(root)
    first = store.erase({"user_id": {"1"}})
    assert [(o.action, o.count) for o in first.outcomes] == [("deleted", 2)]
    assert not (root / "1").exists() and (root / "2" / "c.txt").read_bytes() == b"bob"
    assert store.erase({"user_id": {"1"}}).erased == 0
    assert list(store.find({"user_id": {"1"}})) == []


def test_erase_with_retain_keeps_the_files_and_gives_the_reason(root):
    result = files_store(root, on_erase="retain").erase({"user_id": {"1"}})
    assert [(o.action, o.count, o.reason) for o in result.outcomes] == [("retained", 2, "Contract")]
    assert (root / "1" / "a.txt").exists()


def test_erase_of_a_symlink_inside_the_folder_leaves_its_target(root, tmp_path):
    (tmp_path / "keep.txt").write_text("other")
    os.symlink(tmp_path / "keep.txt", root / "1" / "link.txt")
    files_store(root).erase({"user_id": {"1"}})
    assert (tmp_path / "keep.txt").read_text() == "other"


def test_missing_root_is_reported_by_check(tmp_path):
    [problem] = files_store(tmp_path / "nope").check()
    assert "store 'ws', field 'root': root folder does not exist" in problem
