"""Benchmark: access requests completed per minute by 1, 2 and 4 RQ worker processes.

    .venv/bin/python bench/workflow.py            # 16 requests per round, demo size 1
    .venv/bin/python bench/workflow.py --quick    # 6 requests per round
    .venv/bin/python bench/workflow.py --size 5 --requests 40 --database-url postgresql://...

Seeds the CraftOS demo stores into a temporary folder and writes the bench's own copy of the
data map without the ``manual`` payment_processor store (which would make every request wait
for staff). The portal runs on a fresh SQLite database (``flask db upgrade``; or
``--database-url``), a private Redis from scripts/devredis.py, ARCHIVE_ENCRYPTION=none and
mail to the outbox folder.

Per round: start n ``flask --app wsgi worker`` processes and wait until all are registered
in Redis; then create the requests as verified access requests of demo people through the app
(``lifecycle.begin_workflow`` + ``enqueue_step``, what confirming the email link does) and time
until every one is ``completed`` (discover, one step per store, assembly into an archive, the
completion email). The baseline is the same run with one worker: scaling efficiency is
rate_n / (n * rate_1). Each RQ job runs in a forked work-horse; on a 2-core machine two
processes already use both cores, so 4 workers cannot scale past about 2x.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def without_manual_stores(stores_toml: Path, target: Path) -> Path:
    """Copy the data map, dropping every [[stores]] block whose kind is manual."""
    blocks, current = [], []
    for line in stores_toml.read_text().splitlines(keepends=True):
        if line.strip() == "[[stores]]" and current:
            blocks.append(current)
            current = []
        current.append(line)
    blocks.append(current)
    kept = [b for b in blocks if not any(line.strip() == 'kind = "manual"' for line in b)]
    target.write_text("".join("".join(b) for b in kept))
    return target


def demo_emails(stores_toml: Path, count: int) -> list[str]:
    """The first `count` people of the demo accounts database (named people first)."""
    accounts = next(s for s in tomllib.loads(stores_toml.read_text())["stores"]
                    if s["name"] == "accounts")
    path = accounts["url"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT email FROM users ORDER BY id LIMIT ?", (count,)).fetchall()
    return [r[0] for r in rows]


def start_workers(n: int, env: dict) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        for _ in range(n)
    ]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def create_requests(app, emails: list[str]) -> tuple[list[int], list[int]]:
    """Verified access requests whose workflow has begun; returns (request ids, step ids)."""
    from app import deadlines
    from app.audit import record
    from app.extensions import db
    from app.lifecycle import begin_workflow, transition
    from app.models import DataRequest, utcnow

    request_ids, step_ids = [], []
    with app.app_context():
        for email in emails:
            now = utcnow()
            data_request = DataRequest(
                request_type="access", region="eu", regime="gdpr", email=email,
                name="Bench Person", timezone="UTC", received_at=now,
                due_at=deadlines.due_at("gdpr", now, None, 30))
            db.session.add(data_request)
            db.session.flush()
            record(data_request, "subject", "submitted", to_state="pending_verification")
            transition(data_request, "verified", "subject", reason="bench")
            step_ids.append(begin_workflow(data_request, "system", "bench"))
            request_ids.append(data_request.id)
        db.session.commit()
    return request_ids, step_ids


def completed(app, request_ids: list[int]) -> tuple[int, int]:
    from app.extensions import db
    from app.models import DataRequest

    with app.app_context():
        rows = db.session.execute(
            db.select(DataRequest.state).where(DataRequest.id.in_(request_ids))).scalars().all()
        db.session.remove()
    return sum(s == "completed" for s in rows), sum(s == "needs_attention" for s in rows)


def step_times(app, request_ids: list[int]) -> dict:
    """Mean seconds per step kind (discover, each store, assemble) and retried steps."""
    from app.extensions import db
    from app.models import Step

    with app.app_context():
        rows = db.session.execute(
            db.select(Step.phase, Step.store, Step.started_at, Step.finished_at, Step.attempts)
            .where(Step.request_id.in_(request_ids))).all()
        db.session.remove()
    spans: dict[str, list[float]] = {}
    for phase, store, started, finished, _ in rows:
        if started and finished:
            spans.setdefault(store or phase, []).append((finished - started).total_seconds())
    return {"mean": {k: sum(v) / len(v) for k, v in spans.items()},
            "retried": sum(1 for *_, attempts in rows if attempts > 1)}


def run_round(app, env: dict, workers: int, emails: list[str], timeout: float) -> dict:
    from rq import Worker

    from app.queue import enqueue_step, redis_connection

    processes = start_workers(workers, env)
    try:
        with app.app_context():
            conn = redis_connection()
            deadline = time.monotonic() + 60
            while len(Worker.all(connection=conn)) < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError("workers did not register within 60 s")
                time.sleep(0.1)
        request_ids, step_ids = create_requests(app, emails)
        started = time.perf_counter()
        with app.app_context():
            for step_id in step_ids:
                enqueue_step(step_id)
        stop_at = time.monotonic() + timeout
        done = failed = 0
        while time.monotonic() < stop_at:
            done, failed = completed(app, request_ids)
            if done + failed == len(request_ids):
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        stop_workers(processes)
    if done + failed < len(request_ids):
        print(f"warning: {workers} worker(s): only {done} of {len(request_ids)} completed "
              f"within {timeout:.0f} s", file=sys.stderr)
    return {"workers": workers, "requests": len(request_ids), "completed": done,
            "failed": failed, "seconds": seconds, "per_minute": done / seconds * 60,
            "steps": step_times(app, request_ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 requests per round")
    parser.add_argument("--size", type=int, default=1, help="demo size (workflows.demo.seed)")
    parser.add_argument("--requests", type=int, default=16, help="per round")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, the first is the base")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per round")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.timeout = 6, 120
    counts = [int(n) for n in args.workers.split(",")]

    from scripts import devredis
    from workflows.demo import seed

    with tempfile.TemporaryDirectory(prefix="dsr-bench-workflow-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        stores = without_manual_stores(seed(tmp / "demo", size=args.size), tmp / "stores.toml")
        print(f"demo size {args.size} seeded in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
        redis_process, redis_url = devredis.start(tmp / "redis", persist=False)
        env = dict(os.environ)
        env.pop("MAIL_SERVER", None)
        env.update({
            "SECRET_KEY": "bench-secret-key-not-for-production", "DSR_ENV": "production",
            "INSTANCE_DIR": str(tmp / "instance"), "REDIS_URL": redis_url,
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'dsr.db'}",
            "STORES_CONFIG": str(stores), "ARCHIVE_DIR": str(tmp / "archives"),
            "ARCHIVE_ENCRYPTION": "none", "BASE_URL": "http://127.0.0.1",
            "STEP_RETRY_INTERVALS": "1", "PYTHONWARNINGS": "ignore",
        })
        try:
            subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                           env=env, cwd=ROOT, check=True, capture_output=True)
            os.environ.update(env)
            from app.factory import create_app

            app = create_app()
            emails = demo_emails(stores, args.requests)
            results = [run_round(app, env, n, emails, args.timeout) for n in counts]
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        store_count = len(tomllib.loads(stores.read_text())["stores"])

    base = results[0]["per_minute"] / counts[0]
    for r in results:
        slowest = sorted(r["steps"]["mean"].items(), key=lambda kv: -kv[1])[:4]
        print(f"{r['workers']} worker(s): retried steps {r['steps']['retried']}; slowest steps "
              + ", ".join(f"{k} {v:.2f}s" for k, v in slowest), file=sys.stderr)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print()
    print(f"{'workers':>7} {'requests':>8} {'completed':>9} {'failed':>6} {'seconds':>8} "
          f"{'req/min':>8} {'efficiency':>10}")
    for r in results:
        efficiency = r["per_minute"] / (r["workers"] * base)
        print(f"{r['workers']:>7} {r['requests']:>8} {r['completed']:>9} {r['failed']:>6} "
              f"{r['seconds']:>8.1f} {r['per_minute']:>8.1f} {efficiency:>10.2f}")
    print(f"access requests on demo size {args.size} ({store_count} stores, no manual store), "
          f"{database}, unencrypted archives; {os.cpu_count()} cores: expect scaling to stop "
          f"near 2 workers.")
    summary = "; ".join(
        f"{r['workers']}w {r['per_minute']:.1f}/min "
        f"(eff. {r['per_minute'] / (r['workers'] * base):.2f})" for r in results)
    print(f"workflow: access requests completed per minute: {summary}")


if __name__ == "__main__":
    main()
