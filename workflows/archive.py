"""The access / export archive: stage each store's items, then assemble one zip.

Staging (one RQ job per store) lives in ``workflows.archive_staging`` and is re-exported here:
``stage_store``, ``load_staged``, ``StagedStore``. ``build_archive`` (the assemble job)
streams everything into the zip SPEC lays out, in this order::

    index.html  report.pdf  data/<store>/<table>.json|.csv  files/<store>/...  manifest.json

with stores and paths sorted, so the same input gives the same bytes. It writes a temporary
file next to the target, fsyncs it and renames it over the target: no half archive ever
exists at the target path. JSON, CSV and HTML are deflated; the person's files are stored
unless their name says they are text (``compression_for``), because deflating JPEGs or zips
only burns CPU. Every member is streamed in 1 MiB chunks, so memory stays flat as data grows.

``statement`` (the caller builds it, mostly from ``Store.describe()``)::

    {"company": str, "contact": str, "reference": str,
     "request_type": "access" | "export",
     "regime": "gdpr" | "uk" | "ccpa" | "us_state" | "appi" | "company",
     "generated_at": ISO 8601 str,
     "stores": [{"store", "kind", "purpose", "categories": [str], "recipients": [str],
                 "retention", "source", "on_erase": {table: {"rule", "reason"}}}, ...],
     # export only: what it leaves out (``workflows.archive_scope.left_out_of_export``)
     "not_portable": [{"store", "whole_store": bool, "tables": [str]}, ...]}

``manifest.json``::

    {"schema_version": 1, "reference", "generated_at",
     "stores": {store: {"records": {table: count}, "files": count}},
     "files": [{"path", "bytes", "sha256"}, ...]}   # every member but manifest.json

An export's manifest also says what it is and what it leaves out (names only, no data)::

    {..., "request_type": "export", "scope": EXPORT_SCOPE,
     "not_portable": [{"store", "whole_store", "tables"}, ...]}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import queue
import tempfile
import threading
import zipfile
from pathlib import Path

import pyzipper

from workflows.archive_index import render_index
from workflows.archive_scope import EXPORT_SCOPE
from workflows.archive_staging import (
    PREVIEW_ROWS,
    SCHEMA_VERSION,
    StagedStore,
    _read_summary,
    load_staged,
    read_rows,
    stage_store,
    staged_stores,
)
from workflows.archive_values import compression_for
from workflows.reports import art15_report
from workflows.stores.base import CHUNK_SIZE

__all__ = [
    "ArchiveInfo",
    "StagedStore",
    "build_archive",
    "compression_for",
    "load_staged",
    "stage_store",
    "staged_stores",
]


@dataclasses.dataclass(frozen=True)
class ArchiveInfo:
    """The finished archive: where it is, its size and sha256, and its manifest."""

    path: Path
    bytes: int
    sha256: str
    manifest: dict


class _HashingSink:
    """Write-only view of the archive file that hashes every byte written, in a thread.

    It has no ``seek``/``tell`` on purpose: zipfile then streams (sizes go in data
    descriptors) instead of seeking back to patch headers, so the bytes hashed are exactly
    the bytes on disk. Hashing in a second thread overlaps it with compression and writes
    (hashlib releases the GIL on large buffers).
    """

    def __init__(self, raw):
        self._raw = raw
        self._queue: queue.Queue = queue.Queue(maxsize=8)  # at most ~8 MiB waiting to be hashed
        self._digest = hashlib.sha256()
        self.size = 0
        self._thread = threading.Thread(target=self._hash, daemon=True)
        self._thread.start()

    def _hash(self) -> None:
        while (data := self._queue.get()) is not None:
            self._digest.update(data)

    def write(self, data) -> int:
        data = bytes(data)
        self._raw.write(data)
        self._queue.put(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._raw.flush()

    def hexdigest(self) -> str:
        """Stop the hashing thread and return the sha256 of everything written."""
        self.stop()
        return self._digest.hexdigest()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class _Writer:
    """Adds members to the zip, recording path, bytes and sha256 for the manifest."""

    def __init__(self, zf: zipfile.ZipFile, date_time: tuple):
        self.zf = zf
        self.date_time = date_time
        self.entries: list[dict] = []

    def _info(self, name: str, size: int) -> zipfile.ZipInfo:
        # pyzipper's AES archive needs its own ZipInfo class; the standard one otherwise.
        info_cls = getattr(self.zf, "zipinfo_cls", zipfile.ZipInfo)
        info = info_cls(name, date_time=self.date_time)
        info.compress_type = compression_for(name)
        info.external_attr = 0o644 << 16
        info.file_size = size  # lets zipfile pick zip64 up front for members over 2 GiB
        return info

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> None:
        with self.zf.open(self._info(name, len(data)), "w") as out:
            out.write(data)
        if listed:
            self.entries.append(
                {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )

    def add_staged(self, name: str, source: Path, size: int, sha256: str) -> None:
        copied = 0
        with source.open("rb") as src, self.zf.open(self._info(name, size), "w") as out:
            while chunk := src.read(CHUNK_SIZE):
                out.write(chunk)
                copied += len(chunk)
        if copied != size:
            raise RuntimeError(f"staged member {name} changed size since staging")
        self.entries.append({"path": name, "bytes": size, "sha256": sha256})


def _zip_time(moment: dt.datetime) -> tuple:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return max(moment.timetuple()[:6], (1980, 1, 1, 0, 0, 0))


def _index_store(staging_dir: Path, summary: dict, facts: dict) -> dict:
    folder = staging_dir / summary["segment"]
    tables = []
    for table, info in summary["tables"].items():
        stem = info["stem"]
        tables.append(
            {
                "table": table,
                "rows": info["rows"],
                "columns": info["columns"],
                "json_href": f"data/{summary['segment']}/{stem}.json",
                "csv_href": f"data/{summary['segment']}/{stem}.csv",
                "preview": list(read_rows(folder / "data" / f"{stem}.json", PREVIEW_ROWS)),
            }
        )
    prefix = f"files/{summary['segment']}/"
    files = [
        (m["path"], m["path"][len(prefix) :], m["bytes"])
        for m in summary["members"]
        if m["path"].startswith(prefix)
    ]
    return {
        "store": summary["store"],
        "anchor": "store-" + summary["segment"],
        "facts": facts,
        "tables": tables,
        "files": files,
        "tasks": summary["tasks"],
    }


def _generated(staging_dir: Path, statement: dict, reference: str, generated_at: dt.datetime):
    """index.html, report.pdf and the summaries, before the zip is opened: a statement that
    breaks the PDF fails here, having written nothing."""
    summaries = [_read_summary(staging_dir, s) for s in staged_stores(staging_dir)]
    facts = {s.get("store"): s for s in statement.get("stores", [])}
    index = render_index(
        company=str(statement.get("company", "")),
        reference=reference,
        generated_at=generated_at.isoformat(),
        request_type=str(statement.get("request_type", "access")),
        stores=[_index_store(staging_dir, s, facts.get(s["store"], {})) for s in summaries],
        not_portable=[{**entry, "facts": facts.get(entry["store"], {})}
                      for entry in statement.get("not_portable") or []],
        timezone=statement.get("timezone"),
    )
    pdf = io.BytesIO()
    art15_report(
        pdf, {**statement, "reference": reference, "generated_at": generated_at.isoformat()}
    )
    return summaries, index.encode("utf-8"), pdf.getvalue()


def _export_fields(statement: dict) -> dict:
    """Manifest keys of an Art. 20 export; none for access, whose manifest stays as it was."""
    if statement.get("request_type") != "export":
        return {}
    return {"request_type": "export", "scope": EXPORT_SCOPE,
            "not_portable": list(statement.get("not_portable") or [])}


def build_archive(
    staging_dir: Path,
    target: Path,
    *,
    reference: str,
    generated_at: dt.datetime,
    statement: dict,
    password: bytes | None = None,
) -> ArchiveInfo:
    """Assemble every store staged in ``staging_dir`` into the zip at ``target``, atomically.

    Safe to run again after a crash: it starts from the staged files and replaces ``target``
    only once the new zip is complete and on disk. With ``password`` every member is encrypted
    with AES-256 (readable by 7-Zip, WinZip, macOS Archive Utility's `ditto`, p7zip...).
    """
    staging_dir, target = Path(staging_dir), Path(target)
    summaries, index, pdf = _generated(staging_dir, statement, reference, generated_at)
    fd, part_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    part = Path(part_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = _HashingSink(raw)
            try:
                manifest = _write_zip(sink, staging_dir, summaries, index, pdf, reference,
                                      generated_at, password, _export_fields(statement))
            finally:
                sink.stop()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return ArchiveInfo(path=target, bytes=sink.size, sha256=sink.hexdigest(), manifest=manifest)


def _open_zip(sink, password: bytes | None):
    """A plain zip, or with a password an AES-256 (WinZip AE-2) one: every member encrypted."""
    if password is None:
        return zipfile.ZipFile(sink, "w", allowZip64=True)
    zf = pyzipper.AESZipFile(sink, "w", allowZip64=True, encryption=pyzipper.WZ_AES)
    zf.setpassword(password)
    zf.setencryption(pyzipper.WZ_AES, nbits=256)
    return zf


def _write_zip(sink, staging_dir, summaries, index, pdf, reference, generated_at,
               password=None, export_fields=None) -> dict:
    with _open_zip(sink, password) as zf:
        writer = _Writer(zf, _zip_time(generated_at))
        writer.add_bytes("index.html", index)
        writer.add_bytes("report.pdf", pdf)
        members = sorted(
            (m for s in summaries for m in s["members"]),
            # data/ before files/, then by path: the order SPEC lists them in.
            key=lambda m: (not m["path"].startswith("data/"), m["path"]),
        )
        folders = {s["segment"]: staging_dir / s["segment"] for s in summaries}
        for m in members:
            segment = m["path"].split("/", 2)[1]
            writer.add_staged(m["path"], folders[segment] / m["source"], m["bytes"], m["sha256"])
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "reference": reference,
            "generated_at": generated_at.isoformat(),
            "stores": {
                s["store"]: {
                    "records": {t: info["rows"] for t, info in s["tables"].items()},
                    "files": sum(1 for m in s["members"] if m["source"].startswith("files/")),
                }
                for s in summaries
            },
            "files": writer.entries,
            **(export_fields or {}),
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        writer.add_bytes("manifest.json", data, listed=False)  # it cannot list its own hash
    return manifest


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; some platforms cannot open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
