"""Benchmark: find one person among many rows and files through the store connectors.

Generates its own data in a temporary folder (a SQLite database of users and events, and a
folder of files per user), then, at two data sizes (a quarter of the target and the target),
times finding one person through the connectors (identity resolution, every row of theirs,
every byte of their files) against a baseline measured in the same run: bare sqlite3 with
the same WHERE and a bare chunked file read. Each measurement runs in a fresh process so
its peak RSS is its own: the point is that memory stays flat while the data grows.

    .venv/bin/python bench/collect.py            # 1M rows, 1 GB of files
    .venv/bin/python bench/collect.py --quick    # 100k rows, 100 MB
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

FILE_SIZE = 1 << 20
TARGET_FILE_SHARE = 4  # the person holds 1/4 of the files, so their bytes grow with the data
TARGET_ROW_SHARE = 1000  # and 1/1000 of the events
REPEATS = 3


def generate(workdir: Path, rows: int, megabytes: int) -> dict:
    """Write users + events (``rows`` in total) and ``megabytes`` of files; describe the target."""
    workdir.mkdir(parents=True, exist_ok=True)
    users = max(rows // 10, 10)
    events = rows - users
    target = users // 2
    db = sqlite3.connect(workdir / "bench.db")
    # No index on the match columns: the benchmark measures the worst case, a full scan.
    db.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);"
        "CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER, kind TEXT, payload TEXT);"
    )
    rng = random.Random(7)
    with db:
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?)",
            ((i, f"user{i}@example.com", f"User {i}") for i in range(users)),
        )
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            (
                (
                    i,
                    target if i % TARGET_ROW_SHARE == 0 else rng.randrange(users),
                    "page_view",
                    "x" * 48,
                )
                for i in range(events)
            ),
        )
    db.close()
    files = workdir / "files"
    block = random.Random(1).randbytes(FILE_SIZE)
    folders = 50
    for n in range(megabytes):
        owner = target if n % TARGET_FILE_SHARE == 0 else (n % folders) + users  # others' folders
        folder = files / str(owner)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n}.bin").write_bytes(block)
    return {"dir": str(workdir), "rows": users + events, "megabytes": megabytes, "target": target}


def datamap_text(workdir: Path) -> str:
    return f"""
[[stores]]
name = "app"
kind = "sql"
url = "sqlite:///{workdir / "bench.db"}"
  [[stores.tables]]
  table = "users"
  match = {{ column = "email", identity = "email" }}
  provides = {{ user_id = "id" }}
  on_erase = "delete"
  [[stores.tables]]
  table = "events"
  match = {{ column = "user_id", identity = "user_id" }}
  on_erase = "delete"
[[stores]]
name = "files"
kind = "files"
root = "{workdir / "files"}"
path = "{{user_id}}"
on_erase = "delete"
"""


def measure_connectors(workdir: Path, email: str) -> dict:
    from workflows.datamap import parse_datamap
    from workflows.scan import resolve_identities
    from workflows.stores import FileItem, Record, make_store

    datamap = parse_datamap(datamap_text(workdir))
    stores = [make_store(c) for c in datamap.stores]
    return best_of(
        lambda: connectors_once(datamap, stores, email, resolve_identities, Record, FileItem)
    )


def best_of(run, times: int = REPEATS) -> dict:
    """The fastest of ``times`` runs, plus the first (cold: schema reflection, cold caches)."""
    results = [run() for _ in range(times)]
    best = {
        k: min(r[k] for r in results) if k.endswith("_s") else results[0][k] for k in results[0]
    }
    best["cold_sql_s"] = results[0]["sql_s"]
    return best


def connectors_once(datamap, stores, email, resolve_identities, Record, FileItem) -> dict:
    started = time.perf_counter()
    identities = resolve_identities(datamap, email, stores)
    rows = sum(1 for item in stores[0].find(identities) if isinstance(item, Record))
    sql_seconds = time.perf_counter() - started
    started = time.perf_counter()
    streamed = 0
    for item in stores[1].find(identities):
        if isinstance(item, FileItem):
            for chunk in item.chunks():
                streamed += len(chunk)
    return {
        "rows": rows,
        "sql_s": sql_seconds,
        "bytes": streamed,
        "files_s": time.perf_counter() - started,
    }


def measure_baseline(workdir: Path, email: str) -> dict:
    return best_of(lambda: baseline_once(workdir, email))


def baseline_once(workdir: Path, email: str) -> dict:
    started = time.perf_counter()
    db = sqlite3.connect(workdir / "bench.db")
    [(user_id,)] = db.execute("SELECT id FROM users WHERE lower(email) IN (?)", (email,)).fetchall()
    rows = sum(1 for _ in db.execute("SELECT * FROM users WHERE lower(email) IN (?)", (email,)))
    rows += sum(1 for _ in db.execute("SELECT * FROM events WHERE user_id IN (?)", (user_id,)))
    db.close()
    sql_seconds = time.perf_counter() - started
    started = time.perf_counter()
    streamed = 0
    for dirpath, _, names in os.walk(workdir / "files" / str(user_id)):
        for name in sorted(names):
            with open(Path(dirpath, name), "rb") as handle:
                while chunk := handle.read(FILE_SIZE):
                    streamed += len(chunk)
    return {
        "rows": rows,
        "sql_s": sql_seconds,
        "bytes": streamed,
        "files_s": time.perf_counter() - started,
    }


def child(args) -> None:
    """Run one measurement in this (fresh) process and print it as JSON with the peak RSS."""
    workdir, mode, email = Path(args.measure), args.mode, args.email
    result = (measure_connectors if mode == "connectors" else measure_baseline)(workdir, email)
    # ru_maxrss is KiB on Linux.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(workdir: str, mode: str, email: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", workdir, "--mode", mode, "--email", email],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in total (default 1M)")
    parser.add_argument("--mb", type=int, default=1024, help="MiB of files (default 1024)")
    parser.add_argument("--quick", action="store_true", help="100k rows and 100 MiB")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--email", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return child(args)
    rows, mb = (100_000, 100) if args.quick else (args.rows, args.mb)
    results = []
    with tempfile.TemporaryDirectory(prefix="dsr-bench-") as tmp:
        for label, scale in (("1/4 size", 4), ("full size", 1)):
            started = time.perf_counter()
            data = generate(
                Path(tmp) / label.replace(" ", "-").replace("/", "_"), rows // scale, mb // scale
            )
            print(
                f"generated {label}: {data['rows']:,} rows, {data['megabytes']} MiB "
                f"in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
            email = f"user{data['target']}@example.com"
            conn = run_child(data["dir"], "connectors", email)
            base = run_child(data["dir"], "baseline", email)
            assert conn["rows"] == base["rows"] and conn["bytes"] == base["bytes"], (conn, base)
            results.append((label, data, conn, base))
    print_figures(results)


def print_figures(results) -> None:
    print()
    print(
        f"{'data':<10} {'rows':>10} {'files':>8} {'found':>7} {'rows/s':>12} {'base rows/s':>12} "
        f"{'ratio':>6} {'MB/s':>8} {'base MB/s':>9} {'ratio':>6} {'RSS MB':>7} {'base RSS':>8}"
    )
    for label, data, conn, base in results:
        rows_s, base_rows_s = data["rows"] / conn["sql_s"], data["rows"] / base["sql_s"]
        mb_s = conn["bytes"] / 2**20 / conn["files_s"]
        base_mb_s = base["bytes"] / 2**20 / base["files_s"]
        print(
            f"{label:<10} {data['rows']:>10,} {data['megabytes']:>6}MB {conn['rows']:>7,} "
            f"{rows_s:>12,.0f} {base_rows_s:>12,.0f} {base_rows_s / rows_s:>5.2f}x "
            f"{mb_s:>8,.0f} {base_mb_s:>9,.0f} {base_mb_s / mb_s:>5.2f}x "
            f"{conn['peak_rss_mb']:>7.1f} {base['peak_rss_mb']:>8.1f}"
        )
    print(
        "rows/s: rows in the database / time to resolve the person and read all their rows "
        "(full scans: no index on match columns)."
    )
    print(
        "MB/s: the person's file bytes streamed in 1 MiB chunks (page cache warm from generation). "
        "ratio: baseline / connector."
    )
    first, last = results[0][2]["peak_rss_mb"], results[-1][2]["peak_rss_mb"]
    print(
        f"peak RSS of the connector process: {first:.1f} MB at 1/4 size, "
        f"{last:.1f} MB at full size ({last - first:+.1f} MB for 4x the data)."
    )
    cold = ", ".join(f"{label}: {conn['cold_sql_s']:.2f}s" for label, _, conn, _ in results)
    print(
        f"first (cold) connector run incl. schema reflection: {cold}; "
        f"figures above: best of {REPEATS}."
    )


if __name__ == "__main__":
    main()
