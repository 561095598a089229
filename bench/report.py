"""Run every benchmark and write their figures to bench/REPORT.md (`make bench`).

    .venv/bin/python bench/report.py                  # full sizes (under 15 minutes, 2 cores)
    BENCH_QUICK=1 .venv/bin/python bench/report.py    # each bench with --quick

Each bench prints its figures last, after a blank line, as ratios against a baseline measured in
the same run; the report keeps that last block of each bench's output, with how long the bench
took and its exit status. A bench that is not in the tree yet (bench/queue_page.py comes with the
staff console) is listed as skipped.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = [
    ("collect", "find one person among rows and files vs bare sqlite3 / read"),
    ("archive", "archive build vs bare zipfile, peak memory"),
    ("queue_page", "staff queue and SLA sweep at 100k vs 1k requests"),
    ("intake", "submissions/s through gunicorn vs a bare Flask route"),
    ("workflow", "access requests per minute by 1, 2 and 4 workers"),
]
TIMEOUT = 900


def figures(stdout: str, fallback_lines: int = 12) -> str:
    """The last block of output: everything after the last blank line (or the last lines)."""
    lines = stdout.rstrip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            return "\n".join(lines[i + 1:])
    return "\n".join(lines[-fallback_lines:])


def run(name: str, quick: bool) -> dict:
    script = ROOT / "bench" / f"{name}.py"
    if not script.exists():
        return {"name": name, "status": "skipped", "seconds": 0.0,
                "figures": f"bench/{name}.py is not in the tree yet: skipped"}
    command = [sys.executable, str(script)]
    if quick and "--quick" in script.read_text():
        command.append("--quick")
    print(f"--- {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"name": name, "status": f"timed out after {TIMEOUT} s",
                "seconds": time.perf_counter() - started, "figures": ""}
    seconds = time.perf_counter() - started
    if result.returncode:
        tail = "\n".join(result.stderr.rstrip().splitlines()[-15:])
        return {"name": name, "status": f"failed (exit {result.returncode})",
                "seconds": seconds, "figures": tail}
    block = figures(result.stdout)
    print(block, flush=True)
    return {"name": name, "status": "ok", "seconds": seconds, "figures": block}


def write_report(results: list[dict], quick: bool, total: float) -> Path:
    path = ROOT / "bench" / "REPORT.md"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    lines = [
        "# Benchmark report",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench`"
        f"{' (BENCH_QUICK=1)' if quick else ''} at commit {commit}, on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {total / 60:.1f} minutes in all.",
        "Each bench measures its own baseline in the same run; the figures are its last lines.",
        "",
    ]
    descriptions = dict(BENCHES)
    for r in results:
        lines += [
            f"## {r['name']}: {descriptions[r['name']]}",
            "",
            f"`bench/{r['name']}.py` — {r['status']}, {r['seconds']:.0f} s",
            "",
            "```",
            r["figures"],
            "```",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def main() -> None:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    started = time.perf_counter()
    results = [run(name, quick) for name, _ in BENCHES]
    total = time.perf_counter() - started
    path = write_report(results, quick, total)
    print(f"\nreport written to {path.relative_to(ROOT)} ({total / 60:.1f} minutes)")
    for r in results:
        print(f"{r['name']:<9} {r['status']:<20} {r['seconds']:>6.0f} s")
    sys.exit(1 if any(r["status"].startswith(("failed", "timed")) for r in results) else 0)


if __name__ == "__main__":
    main()
