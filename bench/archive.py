"""Benchmark: the archive for one person with lots of files and rows.

    .venv/bin/python bench/archive.py            # 100 MB / 100k rows, then 1 GB / 1M rows
    .venv/bin/python bench/archive.py --quick    # 100 MB / 100k rows only

Per size, three child processes, each measured on its own (``os.wait4`` gives one child's
peak RSS, so one phase cannot hide behind another):

- ``stage``: generate the person's data and run ``stage_store`` for a table store and a files
  store (what the per-store jobs do);
- ``build``: ``build_archive`` from the staged folder (the assemble job);
- ``baseline``: bare ``zipfile`` writing the same members from the same staged files, with
  the same compression per member (``compression_for``: JSON, CSV, HTML and text deflated,
  other files stored) and the same fsync at the end, but no manifest, no checksums, no index
  or PDF and no atomic rename.

build and baseline run alternately ``--repeat`` times, best time kept (page cache warm for
both). Throughput = uncompressed bytes of the members / seconds. Targets (issue 4): ratio
build/baseline >= 0.7, peak RSS of build < 200 MB and flat from 100 MB to 1 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows.archive import build_archive, compression_for  # noqa: E402
from workflows.archive_staging import _read_summary, staged_stores  # noqa: E402
from workflows.stores.base import CHUNK_SIZE, FileItem, Record  # noqa: E402

MB = 1 << 20
FILE_SIZE = 8 * MB  # typical workspace upload; 128 of them make 1 GB
TEXT_SHARE = 10  # one file in TEXT_SHARE is text (deflated), the rest binary (stored)
WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
STATEMENT = {
    "company": "Bench Co",
    "contact": "privacy@example.com",
    "request_type": "access",
    "regime": "gdpr",
    "stores": [
        {"store": "activity", "kind": "sql", "purpose": "Usage analytics", "retention": "1 year"},
        {"store": "workspace", "kind": "files", "purpose": "Your files", "retention": "Account"},
    ],
}


def make_files(folder: Path, total: int) -> list[Path]:
    """Binary files from one random block (cheap to make, still incompressible) and some text."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(FILE_SIZE)
    text = (b"Meeting notes: the agent booked the room and emailed the team.\n" * 200_000)[
        :FILE_SIZE
    ]
    paths = []
    for n in range(max(1, total // FILE_SIZE)):
        is_text = n % TEXT_SHARE == 0
        path = folder / (f"notes-{n:04d}.txt" if is_text else f"photo-{n:04d}.jpg")
        # A different first 8 bytes per file keeps identical files from being a special case.
        path.write_bytes(n.to_bytes(8, "big") + (text if is_text else block)[8:])
        paths.append(path)
    return paths


def rows(count: int):
    start = dt.datetime(2025, 1, 1)
    for i in range(count):
        yield Record(
            "activity",
            "events",
            {
                "id": i,
                "user_id": 42,
                "at": start + dt.timedelta(seconds=i),
                "event": "agent.task.completed" if i % 3 else "integration.sync",
                "cost": Decimal(i % 1000) / 100,
                "detail": f"task {i} finished in {i % 97} steps",
            },
        )


def file_items(paths: list[Path], root: Path):
    for path in paths:
        yield FileItem(
            "workspace",
            path.relative_to(root).as_posix(),
            path.stat().st_size,
            lambda p=path: p.open("rb"),
        )


def child_stage(work: Path, files_mb: int, rows_count: int) -> dict:
    from workflows.archive import stage_store

    source = work / "source"
    paths = make_files(source / "files", files_mb * MB)
    started = time.perf_counter()
    stage_store(work / "staging", "activity", rows(rows_count))
    stage_store(work / "staging", "workspace", file_items(paths, source))
    return {"seconds": time.perf_counter() - started}


def child_build(work: Path) -> dict:
    started = time.perf_counter()
    info = build_archive(
        work / "staging",
        work / "dsr-BENCH.zip",
        reference="BENCH",
        generated_at=WHEN,
        statement=STATEMENT,
    )
    seconds = time.perf_counter() - started
    with zipfile.ZipFile(info.path) as zf:
        raw = sum(i.file_size for i in zf.infolist())
    return {"seconds": seconds, "bytes": raw, "zip_bytes": info.bytes}


def child_baseline(work: Path) -> dict:
    staging = work / "staging"
    members = []
    for store in staged_stores(staging):
        summary = _read_summary(staging, store)
        for m in summary["members"]:
            members.append((m["path"], staging / summary["segment"] / m["source"]))
    members.sort()
    target = work / "baseline.zip"
    started = time.perf_counter()
    raw = 0
    with target.open("wb") as out:
        with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
            for name, source in members:
                info = zipfile.ZipInfo(name, date_time=(2026, 3, 1, 0, 0, 0))
                info.compress_type = compression_for(name)
                info.file_size = source.stat().st_size
                with source.open("rb") as src, zf.open(info, "w") as dst:
                    while chunk := src.read(CHUNK_SIZE):
                        dst.write(chunk)
                        raw += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - started
    target.unlink()
    return {"seconds": seconds, "bytes": raw}


def run_child(phase: str, work: Path, args: list[str]) -> dict:
    """Run one phase in a fresh interpreter; its result plus its own peak RSS in MB."""
    command = [sys.executable, __file__, "--child", phase, "--work", str(work), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{phase} child failed with {proc.returncode}")
    result = json.loads(out)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def measure(files_mb: int, rows_count: int, repeat: int, base: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{files_mb}mb-", dir=base))
    sizes = ["--files-mb", str(files_mb), "--rows", str(rows_count)]
    print(f"[{files_mb} MB, {rows_count} rows] staging...", file=sys.stderr)
    stage = run_child("stage", work, sizes)
    builds, baselines = [], []
    for n in range(repeat):
        print(f"[{files_mb} MB] build / baseline, round {n + 1}...", file=sys.stderr)
        builds.append(run_child("build", work, sizes))
        baselines.append(run_child("baseline", work, sizes))
    build = min(builds, key=lambda r: r["seconds"])
    baseline = min(baselines, key=lambda r: r["seconds"])
    subprocess.run(["rm", "-rf", str(work)], check=True)
    return {
        "files_mb": files_mb,
        "rows": rows_count,
        "stage_s": stage["seconds"],
        "stage_rss": stage["peak_rss_mb"],
        "build_s": build["seconds"],
        "build_mbps": build["bytes"] / MB / build["seconds"],
        "build_rss": max(r["peak_rss_mb"] for r in builds),
        "base_s": baseline["seconds"],
        "base_mbps": baseline["bytes"] / MB / baseline["seconds"],
        "base_rss": max(r["peak_rss_mb"] for r in baselines),
        "member_mb": build["bytes"] / MB,
        "zip_mb": build["zip_bytes"] / MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 MB / 100k rows only")
    parser.add_argument("--repeat", type=int, default=2, help="build/baseline rounds per size")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (needs ~4x)")
    parser.add_argument("--child", choices=["stage", "build", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--files-mb", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=100_000, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        phases = {
            "stage": lambda: child_stage(args.work, args.files_mb, args.rows),
            "build": lambda: child_build(args.work),
            "baseline": lambda: child_baseline(args.work),
        }
        print(json.dumps(phases[args.child]()))
        return

    sizes = [(100, 100_000)] if args.quick else [(100, 100_000), (1024, 1_000_000)]
    results = [measure(mb, n, args.repeat, args.workdir) for mb, n in sizes]
    print(
        "\nfiles    rows     members   zip      stage   build              "
        "baseline (bare zipfile)   ratio  build peak RSS"
    )
    for r in results:
        print(
            f"{r['files_mb']:>5} MB {r['rows']:>8} {r['member_mb']:>7.0f} MB {r['zip_mb']:>5.0f} MB"
            f" {r['stage_s']:>6.1f}s {r['build_s']:>6.2f}s {r['build_mbps']:>6.0f} MB/s"
            f"   {r['base_s']:>6.2f}s {r['base_mbps']:>6.0f} MB/s"
            f"      {r['build_mbps'] / r['base_mbps']:>5.2f}  {r['build_rss']:>6.1f} MB"
        )
    print("compression: JSON/CSV/HTML/text deflated (zlib level 6), other files stored, in both.")
    stage_rss = ", ".join(f"{r['stage_rss']:.1f} MB" for r in results)
    base_rss = ", ".join(f"{r['base_rss']:.1f} MB" for r in results)
    print(f"peak RSS of staging: {stage_rss}; of the baseline: {base_rss}")
    print("targets: ratio >= 0.70, build peak RSS < 200 MB and flat across sizes")


if __name__ == "__main__":
    main()
