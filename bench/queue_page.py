"""Benchmark: the staff queue page and the SLA sweep at 1k and 100k requests.

Seeds each size by bulk insert into a fresh database (SQLite in a temporary folder, or the
PostgreSQL at DATABASE_URL — a scratch database: its tables are dropped and recreated), logs in
with the test client and times the queue page (median of REPEATS), unfiltered and filtered,
then one SLA sweep. Prints the times at each size and the 100k/1k ratio (targets: queue <= 1.5,
sweep <= 3).

The data: an open backlog of BACKLOG confirmed requests (due from 10 days ago to 40 days ahead)
and, above that, closed history spread over two years. The backlog stays the same at both sizes:
a support team's open work is bounded by its throughput, while the register grows with every
year of history. So the numbers show whether history slows the console, which is what 100k
requests means in practice; the "history" rows page through the 100k closed ones.

    .venv/bin/python bench/queue_page.py
    DATABASE_URL=postgresql://... .venv/bin/python bench/queue_page.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

SIZES = (1_000, 100_000)
# Half of the small size: both sizes then hold closed history, so the "history" page is a full
# page at 1k as at 100k (with a 1k backlog, the 1k database had no history and that page
# measured an empty table against a full one).
BACKLOG = 500
REPEATS = 40
PASSWORD = "bench password long enough"
PAGES = {
    "unfiltered (open queue)": "/staff/",
    "filtered (type+regime+due 7d)": "/staff/?type=deletion&regime=gdpr&due=7",
    "filtered (unassigned, latest first)": "/staff/?assignee=unassigned&order=-due",
    "all states": "/staff/?state=all",
    "history (completed access)": "/staff/?state=completed&type=access",
    "search by email": "/staff/?q=person17%40example.com",
    "search by reference": None,  # filled in once seeded
}


def setup_environment(workdir):
    from scripts import devredis

    os.environ.update({"DSR_ENV": "testing", "SECRET_KEY": "bench-secret-key",
                       "INSTANCE_DIR": str(workdir / "instance"), "BASE_URL": "http://bench.test"})
    redis = None
    if not os.environ.get("REDIS_URL"):
        redis, os.environ["REDIS_URL"] = devredis.start(workdir / "redis", persist=False)
    return redis


def rows_for(size, now, rng):
    """Plain dicts for a bulk INSERT: the open backlog first, then closed history."""
    from app.models import REGIMES, REQUEST_TYPES, new_reference

    regions = {"gdpr": "eu", "ccpa": "california", "us_state": "us_other", "appi": "japan",
               "company": "other"}
    references = set()
    while len(references) < size:
        references.add(new_reference())
    for i, reference in enumerate(references):
        regime, kind = rng.choice(REGIMES), rng.choice(REQUEST_TYPES)
        row = {"reference": reference, "request_type": kind, "regime": regime,
               "region": regions[regime], "timezone": "UTC", "audit_count": 0}
        if i < min(BACKLOG, size):
            due = now + timedelta(days=rng.uniform(-10, 40))
            received = due - timedelta(days=30)
            row.update(state=rng.choice(("verified", "in_progress", "in_progress",
                                         "needs_attention")),
                       email=f"person{i}@example.com", name=f"Person {i}",
                       received_at=received, verified_at=received, due_at=due,
                       assignee_id=rng.choice((None, None, 1, 2, 3)))
        else:
            received = now - timedelta(days=rng.uniform(45, 730))
            closed = received + timedelta(days=rng.uniform(1, 40))
            row.update(state=rng.choice(("completed", "completed", "completed", "rejected",
                                         "cancelled", "expired")),
                       email=None, email_hash=f"{i:064x}", received_at=received,
                       verified_at=received, due_at=received + timedelta(days=30),
                       closed_at=closed, assignee_id=rng.choice((None, 1, 2, 3)))
            if row["state"] == "expired":
                row["verified_at"] = None
        yield row


def seed(app, size):
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import DataRequest, StaffUser

    with app.app_context():
        db.drop_all()
        db.create_all()
        for n, role in enumerate(("admin", "agent", "agent"), start=1):
            db.session.add(StaffUser(id=n, email=f"staff{n}@bench.test", role=role,
                                     password_hash=generate_password_hash(PASSWORD, "scrypt")))
        db.session.commit()
        batch, rng, now = [], random.Random(size), datetime.now(UTC)
        for row in rows_for(size, now, rng):
            batch.append(row)
            if len(batch) == 5000:
                db.session.execute(db.insert(DataRequest), batch)
                batch = []
        if batch:
            db.session.execute(db.insert(DataRequest), batch)
        db.session.commit()
        # Fresh statistics, as a live database has: the planner picks indexes from them.
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        return db.session.execute(db.select(DataRequest.reference)
                                  .order_by(DataRequest.id.desc()).limit(1)).scalar_one()


def login(client):
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/staff/login", data={"email": "staff2@bench.test",
                                                  "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


def page_times(clients, pages):
    """Median ms per (size, page), sizes interleaved round by round: a machine that gets busier
    halfway through slows both sizes alike instead of skewing the ratio."""
    samples = {(size, name): [] for size in clients for name in pages[size]}
    for size, client in clients.items():
        for path in pages[size].values():
            client.get(path)  # warm the statement cache
    for _ in range(REPEATS):
        for size, client in clients.items():
            for name, path in pages[size].items():
                start = time.perf_counter()
                response = client.get(path)
                samples[size, name].append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
    return {key: statistics.median(values) * 1000 for key, values in samples.items()}


def sweep_times(app):
    from app.extensions import db
    from workflows.sla import sweep

    with app.app_context():
        start = time.perf_counter()
        counts = sweep()
        first = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        sweep()
        repeat = (time.perf_counter() - start) * 1000
        db.session.remove()
    return first, repeat, sum(counts.values())


def main():
    from app.factory import create_app

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        workdir = Path(folder)
        redis = setup_environment(workdir)
        try:
            apps, clients, pages, results = {}, {}, {}, {}
            for size in SIZES:
                url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / f'q{size}.db'}"
                if url.startswith("postgres"):
                    from app.config import database_url
                    url = database_url(url)
                apps[size] = create_app({"SQLALCHEMY_DATABASE_URI": url,
                                         "RATE_LIMITS": {"login": (10_000, 600)}})
                started = time.perf_counter()
                reference = seed(apps[size], size)
                print(f"  {size:>7,} requests seeded in {time.perf_counter() - started:.1f} s")
                clients[size] = apps[size].test_client()
                login(clients[size])
                pages[size] = dict(PAGES, **{"search by reference": f"/staff/?q={reference}"})
                if os.environ.get("DATABASE_URL"):
                    # One scratch database: measure this size before the next one replaces it.
                    results.update(page_times({size: clients[size]}, pages))
                    first, repeat, sent = sweep_times(apps[size])
                    results[size, "sla sweep (first)"], results[size, "sla sweep (repeat)"] = (
                        first, repeat)
            if not os.environ.get("DATABASE_URL"):
                results.update(page_times(clients, pages))
                for size in SIZES:
                    first, repeat, sent = sweep_times(apps[size])
                    results[size, "sla sweep (first)"], results[size, "sla sweep (repeat)"] = (
                        first, repeat)
                    print(f"  {size:>7,}: the first sweep sent {sent} reminder(s)")
        finally:
            if redis is not None:
                redis.terminate()
                redis.wait(timeout=10)
    report(results)


def report(results):
    small, large = SIZES
    names = [name for size, name in results if size == small]
    print(f"\n{'median ms':<38}{small:>10,}{large:>10,}{'ratio':>8}  target")
    for name in names:
        ratio = results[large, name] / results[small, name]
        limit = 3 if "sweep" in name else 1.5
        flag = "ok" if ratio <= limit else "OVER"
        print(f"{name:<38}{results[small, name]:>10.1f}{results[large, name]:>10.1f}"
              f"{ratio:>8.2f}  <= {limit} {flag}")


if __name__ == "__main__":
    main()
