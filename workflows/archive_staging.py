"""Staging for the access / export archive: one store's items turned into files on disk.

``stage_store`` runs once per store (one RQ job each, possibly in different processes)::

    staging_dir/<store>/staged.json          summary read back by ``load_staged``
    staging_dir/<store>/data/<table>.json    a JSON array, one row per line
    staging_dir/<store>/data/<table>.csv     the same rows as CSV
    staging_dir/<store>/files/<path>         the person's files, byte for byte

``<store>`` and ``<table>`` are the names themselves when they are plain (letters, digits,
``._-``), otherwise a cleaned name plus a short hash. The store is written into
``staging_dir/.tmp-<store>-<random>`` and swapped into place only when complete, so a killed
job leaves either the previous complete store or none. Running it twice with the same items
gives the same files. A killed job may leave its ``.tmp-*`` folder behind; the caller removes
``staging_dir`` as a whole once the archive is built.

Values and names: ``workflows.archive_values`` (text UTF-8 can carry, JSON and CSV cells,
safe and short file names). The person's file bytes are copied unchanged.

CSV: written in a second pass over the staged JSON file, so the header is the union of all
columns in order of first appearance (a row without a column gets an empty cell).

Checksums: each staged file's sha256 is computed here, while its bytes stream past anyway, and
kept in ``staged.json`` for the manifest, so assembly need not hash every byte a second time.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from app.storage import private_dir, private_opener
from workflows.archive_values import (
    compact_json,
    csv_cell,
    json_value,
    safe_relative_path,
    safe_segment,
    short_name,
    utf8_text,
)
from workflows.stores.base import CHUNK_SIZE, FileItem, Item, ManualTask, Record

SCHEMA_VERSION = 1
SUMMARY = "staged.json"
PREVIEW_ROWS = 20  # rows of each table shown in index.html; the rest are in the JSON / CSV


@dataclasses.dataclass(frozen=True)
class StagedStore:
    """What one store contributed: rows per table, files, bytes staged, tasks left for staff."""

    store: str
    records: dict[str, int]
    files: int
    bytes: int
    tasks: tuple[ManualTask, ...] = ()


# --- staging -------------------------------------------------------------------------------


class _TableWriter:
    """Streams one table's rows to ``<stem>.json``, remembering the columns for the CSV."""

    def __init__(self, folder: Path, stem: str):
        self.json_path = folder / f"{stem}.json"
        self.csv_path = folder / f"{stem}.csv"
        self.handle = open(self.json_path, "w", encoding="utf-8", newline="\n",
                           opener=private_opener)
        self.handle.write("[")
        self.columns: dict[str, None] = {}  # an ordered set
        self.count = 0

    def add(self, row: dict) -> None:
        converted = json_value(dict(row))
        for column in converted:
            self.columns.setdefault(column, None)
        # One row per line: the CSV pass and the index preview read the file line by line.
        self.handle.write(("\n" if self.count == 0 else ",\n") + compact_json(converted))
        self.count += 1

    def finish(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()
        columns = list(self.columns)
        with open(self.csv_path, "w", encoding="utf-8", newline="", opener=private_opener) as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in read_rows(self.json_path):
                writer.writerow([csv_cell(row.get(c)) for c in columns])


def read_rows(json_path: Path, limit: int | None = None) -> Iterator[dict]:
    """Rows of a staged table file, one at a time (the file has one row per line)."""
    with json_path.open(encoding="utf-8", newline="\n") as handle:
        for n, line in enumerate(handle):
            if limit is not None and n > limit:
                return
            line = line.rstrip("\n").rstrip(",")
            if line not in ("[", "]", ""):
                yield json.loads(line)


def _unique(name: str, used: set[str]) -> str:
    """``name``, or ``name`` with ``-2``, ``-3``... before the suffix if already taken."""
    candidate, n = name, 1
    path = PurePosixPath(name)
    while candidate.lower() in used:
        n += 1
        candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
    used.add(candidate.lower())
    return candidate


class _FilePlaces:
    """Relative paths given out in one store, so two files never land on the same path.

    Compared case-insensitively: the person may unzip on macOS or Windows, where ``A.txt``
    and ``a.txt`` are one file. Sets keep each check O(depth), not O(files).
    """

    def __init__(self):
        self.files: set[str] = set()
        self.folders: set[str] = set()

    def place(self, rel: str) -> str:
        if any(str(p).lower() in self.files for p in PurePosixPath(rel).parents):
            # A folder on the way is already a file: flatten, into one name short enough.
            rel = short_name(rel.replace("/", "_"))
        path, candidate, n = PurePosixPath(rel), rel, 1
        while candidate.lower() in self.files or candidate.lower() in self.folders:
            n += 1
            candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
        self.files.add(candidate.lower())
        self.folders.update(str(p).lower() for p in PurePosixPath(candidate).parents)
        return candidate


def _copy_file(item: FileItem, dest: Path) -> tuple[int, str]:
    private_dir(dest.parent)
    digest, size = hashlib.sha256(), 0
    with open(dest, "wb", opener=private_opener) as out:
        for chunk in item.chunks():
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def stage_store(staging_dir: Path, store: str, items: Iterable[Item]) -> StagedStore:
    """Write one store's items under ``staging_dir/<store>``, replacing any earlier run whole.

    Rows are streamed to disk as they come; files are copied chunk by chunk under a sanitised
    relative path; ``ManualTask`` items are not written but returned in ``tasks``. If ``items``
    raises, nothing of this run is left and the previous staging (if any) is untouched.
    """
    staging_dir = Path(staging_dir)
    store = utf8_text(store)
    segment = safe_segment(store)
    tmp = staging_dir / f".tmp-{segment}-{secrets.token_hex(6)}"
    try:
        summary = _stage_into(tmp, store, segment, items)
        _write_json_atomic(tmp / SUMMARY, summary)
        _swap_in(tmp, staging_dir / segment)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _summary_to_staged(summary)


def _stage_into(tmp: Path, store: str, segment: str, items: Iterable[Item]) -> dict:
    data_dir, files_dir = tmp / "data", tmp / "files"
    # Private from the request's folder down (made here too: the staging of a store whose
    # part was uploaded may have just removed an empty one).
    private_dir(data_dir)
    files_dir.mkdir(mode=0o700)
    tables: dict[str, _TableWriter] = {}
    used_stems: set[str] = set()
    places = _FilePlaces()
    file_members, tasks = [], []
    try:
        for item in items:
            if isinstance(item, Record):
                table = utf8_text(str(item.table))
                writer = tables.get(table)
                if writer is None:
                    stem = _unique(safe_segment(table), used_stems)
                    writer = tables[table] = _TableWriter(data_dir, stem)
                writer.add(item.row)
            elif isinstance(item, FileItem):
                rel = places.place(safe_relative_path(item.path))
                size, sha = _copy_file(item, files_dir / rel)
                file_members.append(_member(f"files/{segment}/{rel}", f"files/{rel}", size, sha))
            elif isinstance(item, ManualTask):
                tasks.append(
                    {"action": utf8_text(item.action), "instructions": utf8_text(item.instructions)}
                )
    except BaseException:
        for writer in tables.values():
            writer.handle.close()
        raise
    data_members, table_info = [], {}
    for table, writer in tables.items():
        writer.finish()
        stem = writer.json_path.stem
        table_info[table] = {"stem": stem, "rows": writer.count, "columns": list(writer.columns)}
        for path in (writer.json_path, writer.csv_path):
            data_members.append(
                _member(
                    f"data/{segment}/{path.name}",
                    f"data/{path.name}",
                    path.stat().st_size,
                    _file_digest(path),
                )
            )
    members = sorted(data_members, key=lambda m: m["path"]) + sorted(
        file_members, key=lambda m: m["path"]
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "store": store,
        "segment": segment,
        "tables": table_info,
        "members": members,
        "tasks": tasks,
    }


def _member(path: str, source: str, size: int, sha256: str) -> dict:
    return {"path": path, "source": source, "bytes": size, "sha256": sha256}


def _swap_in(new: Path, final: Path) -> None:
    """Put the finished folder ``new`` at ``final``; an old ``final`` is moved aside first."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{secrets.token_hex(6)}")
        os.replace(final, old)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_json_atomic(path: Path, value: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", opener=private_opener) as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_summary(staging_dir: Path, store: str) -> dict:
    path = Path(staging_dir) / safe_segment(store) / SUMMARY
    return json.loads(path.read_text(encoding="utf-8"))


def _summary_to_staged(summary: dict) -> StagedStore:
    store = summary["store"]
    return StagedStore(
        store=store,
        records={t: info["rows"] for t, info in summary["tables"].items()},
        files=sum(1 for m in summary["members"] if m["source"].startswith("files/")),
        bytes=sum(m["bytes"] for m in summary["members"]),
        tasks=tuple(ManualTask(store, t["action"], t["instructions"]) for t in summary["tasks"]),
    )


def load_staged(staging_dir: Path, store: str) -> StagedStore:
    """The summary of a store staged earlier (maybe by another process); FileNotFoundError if
    the store has not been staged completely."""
    return _summary_to_staged(_read_summary(staging_dir, store))


def staged_stores(staging_dir: Path) -> list[str]:
    """Names of the stores completely staged in ``staging_dir``, sorted."""
    names = []
    for summary in Path(staging_dir).glob(f"*/{SUMMARY}"):
        if not summary.parent.name.startswith("."):
            names.append(json.loads(summary.read_text(encoding="utf-8"))["store"])
    return sorted(names)
