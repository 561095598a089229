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

Text: every name and value goes through ``utf8_text``, so text UTF-8 cannot carry (a file
name that was not UTF-8 on disk, a lone surrogate from a JSON API) cannot fail every retry.
The person's file bytes are copied unchanged; only names are text, cut to ``NAME_BYTES``.

Rows: values that JSON has no type for are converted deterministically: datetime, date and
time to ISO 8601, Decimal to its exact string, bytes to base64, UUID to str, sets to sorted
lists, NaN / infinities to "nan" / "inf" strings, anything else to ``str()``.

CSV: written in a second pass over the staged JSON file, so the header is the union of all
columns in order of first appearance (a row without a column gets an empty cell). None is an
empty cell, booleans are ``true``/``false``, lists and dicts are JSON. A text cell starting
with ``= + - @`` or a tab/CR is prefixed with ``'`` so that a spreadsheet shows it instead of
running it as a formula; the JSON file keeps the exact value.

Checksums: each staged file's sha256 is computed here, while its bytes stream past anyway, and
kept in ``staged.json`` for the manifest, so assembly need not hash every byte a second time.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import decimal
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from workflows.stores.base import CHUNK_SIZE, FileItem, Item, ManualTask, Record

SCHEMA_VERSION = 1
SUMMARY = "staged.json"
PREVIEW_ROWS = 20  # rows of each table shown in index.html; the rest are in the JSON / CSV
# Names whose content is text and worth deflating; everything else is stored as is.
_TEXT_SUFFIXES = {
    ".json",
    ".csv",
    ".html",
    ".htm",
    ".txt",
    ".md",
    ".log",
    ".xml",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".tsv",
    ".jsonl",
    ".ndjson",
    ".py",
    ".js",
    ".css",
    ".sql",
    ".eml",
}
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Bytes of one file name: under the 255 most file systems allow, leaving room for the "-2"
# that _FilePlaces may add.
NAME_BYTES = 200
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass(frozen=True)
class StagedStore:
    """What one store contributed: rows per table, files, bytes staged, tasks left for staff."""

    store: str
    records: dict[str, int]
    files: int
    bytes: int
    tasks: tuple[ManualTask, ...] = ()


# --- values --------------------------------------------------------------------------------


def utf8_text(text: str) -> str:
    """``text`` with each surrogate (``os.walk``'s ``caf\\udce9.txt``, ``json.loads`` of
    ``"\\ud800"``) replaced by U+FFFD, so that UTF-8 can carry it; valid text is unchanged.

    Not ``encode("utf-8", "surrogateescape")``: that still raises on ``\\ud800``.
    """
    return _SURROGATE.sub("\ufffd", text)


def json_value(value: object) -> object:
    """``value`` as a JSON-native value, converted the same way every time."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {utf8_text(str(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((json_value(v) for v in value), key=_dumps)
    return utf8_text(str(value))


def csv_cell(value: object) -> str:
    """One JSON value as a CSV cell (see the module docstring for the rules)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _dumps(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def safe_segment(name: str) -> str:
    """A folder or file name for ``name`` that cannot escape or collide with another name."""
    name = utf8_text(name)
    if _SAFE_SEGMENT.fullmatch(name) and name not in (".", ".."):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:60] or "unnamed"
    # The hash keeps two different unsafe names from landing in the same place.
    return f"{cleaned}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def safe_relative_path(path: str) -> str:
    """``path`` made relative and harmless: no root, drive, ``..``, NUL or control characters,
    valid UTF-8, no name over ``NAME_BYTES``."""
    parts = []
    for part in re.split(r"[/\\]+", utf8_text(path)):
        part = re.sub(r"[\x00-\x1f\x7f]", "_", part).strip()
        if part in ("", ".", ".."):
            continue
        parts.append(short_name(part.replace(":", "_")))
    return "/".join(parts) or "unnamed"


def short_name(name: str) -> str:
    """``name`` if its UTF-8 fits in ``NAME_BYTES``, else its start, a hash of the whole name
    (two long names that start alike stay apart) and its suffix, if short."""
    data = name.encode("utf-8")
    if len(data) <= NAME_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode("utf-8")) > 16:
        suffix = ""
    tag = "-" + hashlib.sha256(data).hexdigest()[:8]
    room = NAME_BYTES - len(tag) - len(suffix.encode("utf-8"))
    # "ignore" drops the half character a byte cut can leave at the end; the rest is valid.
    return data[:room].decode("utf-8", "ignore") + tag + suffix


def compression_for(name: str) -> int:
    """ZIP_DEFLATED for text members, ZIP_STORED for the rest (usually compressed already)."""
    suffix = PurePosixPath(name).suffix.lower()
    return zipfile.ZIP_DEFLATED if suffix in _TEXT_SUFFIXES else zipfile.ZIP_STORED


# --- staging -------------------------------------------------------------------------------


class _TableWriter:
    """Streams one table's rows to ``<stem>.json``, remembering the columns for the CSV."""

    def __init__(self, folder: Path, stem: str):
        self.json_path = folder / f"{stem}.json"
        self.csv_path = folder / f"{stem}.csv"
        self.handle = self.json_path.open("w", encoding="utf-8", newline="\n")
        self.handle.write("[")
        self.columns: dict[str, None] = {}  # an ordered set
        self.count = 0

    def add(self, row: dict) -> None:
        converted = json_value(dict(row))
        for column in converted:
            self.columns.setdefault(column, None)
        # One row per line: the CSV pass and the index preview read the file line by line.
        self.handle.write(("\n" if self.count == 0 else ",\n") + _dumps(converted))
        self.count += 1

    def finish(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()
        columns = list(self.columns)
        with self.csv_path.open("w", encoding="utf-8", newline="") as out:
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
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with dest.open("wb") as out:
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
    staging_dir.mkdir(parents=True, exist_ok=True)
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
    data_dir.mkdir(parents=True)
    files_dir.mkdir()
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
    with tmp.open("w", encoding="utf-8") as handle:
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
