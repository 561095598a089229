"""Benchmark: intake submissions per second through gunicorn, CSRF and rate limits on.

    .venv/bin/python bench/intake.py            # 2000 submissions per server, 50 clients
    .venv/bin/python bench/intake.py --quick    # 600 submissions per server

Two servers, each started by the bench on 127.0.0.1 with the same gunicorn settings
(2 workers x 4 threads, gthread):

- ``portal``: the real app (``wsgi:app``) against a fresh SQLite database migrated with
  ``flask db upgrade`` (or ``--database-url``), a private Redis from scripts/devredis.py, CSRF
  on and the intake rate limiter on (RATE_INTAKE set very high: the counter still runs in
  Redis on every POST, but never refuses, so the bench measures the app and not the limit);
- ``bare``: a tiny Flask app defined here that serves a form with a hidden field and answers
  its POST with a 303 after parsing the form: the floor cost of Flask + gunicorn + HTTP;
- ``bare+io``: the same tiny app, whose POST also does the durable work any intake must do
  (one INSERT committed to SQLite in WAL mode with synchronous=FULL, as the portal's own
  database is configured, and one push to Redis). It is context, not the target: it shows how
  much of the gap to ``bare`` is the cost of not losing a request rather than the app's code.

Each of ``--clients`` threads acts like a browser: its own keep-alive connection and cookie
jar, GET /requests/new, pull csrf_token out of the HTML, POST the form, expect a 303 (the
redirect is not followed). One submission = that GET + POST. The client shares the machine's
cores with the server, in both runs alike. Targets (issue 6): portal/bare >= 0.5, no 5xx.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, redirect, request  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WORKERS, THREADS = 2, 4

bare_app = Flask("bare")


@bare_app.get("/requests/new")
def bare_form():
    return (
        '<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" '
        'value="bare-token"><input name="email"><button>Send</button></form>'
    )


@bare_app.post("/requests/new")
def bare_submit():
    form = request.form
    if not form.get("email") or form.get("csrf_token") != "bare-token":
        return "bad form", 400
    return redirect("/requests/sent", code=303)


floor_app = Flask("floor")
floor_app.add_url_rule("/requests/new", "form", bare_form, methods=["GET"])
_floor_local = threading.local()


@floor_app.post("/requests/new")
def floor_submit():
    import sqlite3

    import redis

    form = request.form
    if not form.get("email") or form.get("csrf_token") != "bare-token":
        return "bad form", 400
    if not hasattr(_floor_local, "db"):
        _floor_local.db = sqlite3.connect(os.environ["FLOOR_DB"], timeout=30)
        _floor_local.db.execute("PRAGMA journal_mode = WAL")
        _floor_local.db.execute("PRAGMA synchronous = FULL")
        _floor_local.db.execute("CREATE TABLE IF NOT EXISTS submissions "
                                "(id INTEGER PRIMARY KEY, email TEXT, name TEXT)")
        _floor_local.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    with _floor_local.db:
        _floor_local.db.execute("INSERT INTO submissions (email, name) VALUES (?, ?)",
                                (form["email"], form.get("name")))
    _floor_local.redis.lpush("floor:submissions", form["email"])
    return redirect("/requests/sent", code=303)


def free_port() -> int:
    from scripts.devredis import free_port as _free_port

    return _free_port()


def start_gunicorn(target: str, env: dict, chdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread",
            "--chdir", str(chdir), "--log-level", "warning", target,
        ],
        env=env, cwd=chdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {target} exited: {process.stderr.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/requests/new")
            conn.getresponse().read()
            conn.close()
            return process, port
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn {target} did not answer within 30 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Browser:
    """One client: a keep-alive connection and a cookie jar, like one browser tab."""

    def __init__(self, port: int, number: int):
        self.port, self.number = port, number
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def _request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"User-Agent": "dsr-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once, as browsers do.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return response.status, text

    def submit(self, n: int) -> list[int]:
        """GET the form, POST it back with its CSRF token; the status codes of both."""
        get_status, page = self._request("GET", "/requests/new")
        match = CSRF_RE.search(page)
        form = {
            "csrf_token": match.group(1) if match else "",
            "request_type": "access",
            "email": f"bench-{self.number}-{n}@example.com",
            "name": f"Bench Person {self.number}",
            "region": "eu",
            "details": "",
            "timezone": "Europe/Berlin",
        }
        post_status, _ = self._request("POST", "/requests/new", urlencode(form))
        return [get_status, post_status]


def load(port: int, clients: int, total: int, max_seconds: float) -> dict:
    """`clients` browsers share `total` submissions; stop early after `max_seconds`."""
    counter = iter(range(total))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    done = [0]
    errors = [0]
    stop_at = time.monotonic() + max_seconds

    def run(number: int) -> None:
        browser = Browser(port, number)
        while time.monotonic() < stop_at:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            try:
                codes = browser.submit(n)
            except OSError:
                with lock:
                    errors[0] += 1
                continue
            with lock:
                for code in codes:
                    statuses[code] = statuses.get(code, 0) + 1
                if codes == [200, 303]:
                    done[0] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "accepted": done[0],
        "per_second": done[0] / seconds,
        "statuses": statuses,
        "server_errors": sum(c for s, c in statuses.items() if s >= 500),
        "connection_errors": errors[0],
    }


def portal_env(tmp: Path, redis_url: str, database_url: str | None) -> dict:
    env = dict(os.environ)
    for name in ("MAIL_SERVER", "STORES_CONFIG", "ARCHIVE_DIR"):
        env.pop(name, None)
    env.update({
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "DSR_ENV": "production",
        "INSTANCE_DIR": str(tmp / "instance"),
        "DATABASE_URL": database_url or f"sqlite:///{tmp / 'dsr.db'}",
        "REDIS_URL": redis_url,
        "BASE_URL": "http://127.0.0.1",
        # The limiter counts every POST in Redis but never refuses: throughput, not the limit.
        "RATE_INTAKE": str(10**9),
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": str(ROOT),  # for `python -c` below, also under PYTHONSAFEPATH
    })
    return env


def stored_requests(env: dict) -> int:
    script = (
        "from app.factory import create_app; from app.extensions import db; "
        "from app.models import DataRequest, MailMessage; a = create_app()\n"
        "with a.app_context():\n"
        "  print(db.session.query(DataRequest).count(), db.session.query(MailMessage).count())"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"counting stored rows failed: {result.stderr[-2000:]}")
    out = result.stdout.split()
    return int(out[0]), int(out[1])


def measure_portal(args, tmp: Path, redis_url: str) -> dict:
    env = portal_env(tmp, redis_url, args.database_url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env=env,
                   cwd=ROOT, check=True, capture_output=True)
    process, port = start_gunicorn("wsgi:app", env, ROOT)
    try:
        load(port, min(args.clients, 10), 50, 30)  # warm-up: imports, templates, pools
        before = stored_requests(env)
        result = load(port, args.clients, args.submissions, args.max_seconds)
        after = stored_requests(env)
    finally:
        stop(process)
    result["stored"] = after[0] - before[0]
    result["mails"] = after[1] - before[1]
    return result


def measure_bare(args, target="bench.intake:bare_app", extra_env=None) -> dict:
    process, port = start_gunicorn(target, {**os.environ, **(extra_env or {})}, ROOT)
    try:
        load(port, min(args.clients, 10), 50, 30)
        return load(port, args.clients, args.submissions, args.max_seconds)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 submissions per server")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=2000, help="per server")
    parser.add_argument("--max-seconds", type=float, default=120, help="per server")
    parser.add_argument("--database-url", default=None,
                        help="the portal's database (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.quick:
        args.submissions, args.max_seconds = 600, 40

    from scripts import devredis

    with tempfile.TemporaryDirectory(prefix="dsr-bench-intake-") as tmp:
        redis_process, redis_url = devredis.start(Path(tmp) / "redis", persist=False)
        try:
            portal = measure_portal(args, Path(tmp), redis_url)
            floor = measure_bare(args, "bench.intake:floor_app",
                                 {"FLOOR_DB": str(Path(tmp) / "floor.db"), "REDIS_URL": redis_url})
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        bare = measure_bare(args)

    database = "PostgreSQL" if args.database_url else "SQLite"
    print()
    print(f"{'server':<8} {'subm.':>6} {'seconds':>8} {'subm./s':>8} {'5xx':>5} "
          f"{'conn err':>8}  statuses")
    for label, r in (("portal", portal), ("bare", bare), ("bare+io", floor)):
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        print(f"{label:<8} {r['accepted']:>6} {r['seconds']:>8.1f} {r['per_second']:>8.1f} "
              f"{r['server_errors']:>5} {r['connection_errors']:>8}  {codes}")
    print(f"portal: {portal['stored']} requests and {portal['mails']} verify mails stored for "
          f"{portal['accepted']} accepted submissions ({database}, Redis rate limiter on).")
    print(f"gunicorn {WORKERS} workers x {THREADS} threads each; {args.clients} concurrent "
          f"clients, each GET form + POST with CSRF token and cookie jar; client on the same "
          f"{os.cpu_count()} cores.")
    ratio = portal["per_second"] / bare["per_second"]
    print(f"intake: {portal['per_second']:.1f} submissions/s vs bare Flask "
          f"{bare['per_second']:.1f}/s: ratio {ratio:.2f} (target >= 0.5); "
          f"5xx at {args.clients} clients: {portal['server_errors']} (target 0)")
    print(f"context: bare Flask with the same durable writes (SQLite commit + Redis push) "
          f"{floor['per_second']:.1f}/s; portal/bare+io ratio "
          f"{portal['per_second'] / floor['per_second']:.2f}")


if __name__ == "__main__":
    main()
