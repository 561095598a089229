"""Crashes and lost queues: a SIGKILLed worker, a flushed Redis. Every request still completes,
with one archive and nothing done twice."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import ROOT, run_worker, submit
from test_workflows import cli, confirm, resolve_manual, the_request

from app.extensions import db
from app.models import Delivery, Step
from app.queue import queue
from scripts.devredis import free_port
from workflows.reconcile import reconcile


def kill_tree(pid):
    """SIGKILL a process and every descendant: RQ's work-horse runs in a session of its own."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    family, grew = {pid}, True
    while grew:
        children = {p for p, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    for member in family:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


def archives(app):
    with app.app_context():
        return db.session.execute(db.select(Delivery)).scalars().all()


def test_redis_flushed_mid_request_still_completes(demo_app, redis_client):
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    redis_client.flushall()  # Redis restarted empty: the discover job is gone
    run_worker()
    assert the_request(demo_app).state == "in_progress"
    with demo_app.app_context():
        assert reconcile() >= 1
    run_worker()
    resolve_manual(demo_app, the_request(demo_app).reference)
    redis_client.flushall()  # and again, just before assembly runs
    with demo_app.app_context():
        assert reconcile() >= 1
    run_worker()
    assert the_request(demo_app).state == "completed"
    assert len(archives(demo_app)) == 1


class SlowStore(BaseHTTPRequestHandler):
    """An http store that takes its time: long enough to kill the worker in the middle."""

    calls = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        SlowStore.calls.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        time.sleep(float(os.environ.get("SLOW_STORE_SECONDS", "4")))
        body = b'{"records": {}, "next_cursor": null}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_store():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), SlowStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_worker_sigkilled_mid_step_is_recovered(make_app, monkeypatch, tmp_path, slow_store):
    stores = tmp_path / "stores.toml"
    stores.write_text(f'''
[[stores]]
name = "helpdesk"
kind = "http"
url = "{slow_store}"
timeout = 10
purpose = "Support desk"
retention = "3 years"
''')
    monkeypatch.setenv("STORES_CONFIG", str(stores))
    monkeypatch.setenv("STALE_JOB_SECONDS", "2")
    app = make_app()
    client = app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, app)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                              cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.app_context():
                step = db.session.execute(
                    db.select(Step).where(Step.phase == "store")).scalar_one_or_none()
                if step is not None and step.state == "running":
                    break
            time.sleep(0.2)
        assert step is not None and step.state == "running"
    finally:
        kill_tree(worker.pid)  # the worker and its work-horse, mid-step
        worker.wait(timeout=10)
    time.sleep(2.5)
    with app.app_context():
        step = db.session.execute(db.select(Step).where(Step.phase == "store")).scalar_one()
        assert (step.state, step.attempts) == ("running", 1)
        assert reconcile() == 1
    monkeypatch.setenv("SLOW_STORE_SECONDS", "0")  # the store recovers too
    run_worker()
    data_request = the_request(app)
    assert data_request.state == "completed", data_request.state
    with app.app_context():
        step = db.session.execute(db.select(Step).where(Step.phase == "store")).scalar_one()
        assert (step.state, step.attempts) == ("done", 2)
    assert len(archives(app)) == 1
    assert "0 broken" in cli(app, "audit", "verify")


def test_claimed_step_whose_retry_waits_on_a_dead_scheduler_is_revived(demo_app, monkeypatch):
    # RQ retries a job abandoned by a killed worker by scheduling it; the scheduler lock the
    # dead worker held lasts another minute, and the retry would find the step claimed anyway.
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    with demo_app.app_context():
        step = db.session.execute(db.select(Step).where(Step.phase == "discover")).scalar_one()
        step.state, step.attempts = "running", 1  # claimed by the worker that died
        db.session.commit()
        queue().enqueue_at(datetime.now(UTC) + timedelta(hours=1), "workflows.steps.run_step",
                           step.id, job_id=f"step-{step.id}")
        assert reconcile() >= 1
        assert db.session.get(Step, step.id).state == "pending"
    run_worker()
    with demo_app.app_context():
        assert db.session.get(Step, step.id).state == "done"


def test_pending_step_whose_retry_is_long_overdue_is_revived(demo_app):
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    with demo_app.app_context():
        step_id = db.session.execute(
            db.select(Step.id).where(Step.phase == "discover")).scalar_one()
        queue().enqueue_at(datetime.now(UTC) - timedelta(minutes=10), "workflows.steps.run_step",
                           step_id, job_id=f"step-{step_id}")  # due long ago, never moved
        assert reconcile() >= 1
    run_worker()
    with demo_app.app_context():
        assert db.session.get(Step, step_id).state == "done"


def test_step_whose_job_says_queued_but_left_the_queue_is_revived(demo_app, redis_client):
    # A worker pops the job id off the queue and dies before marking it started.
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    with demo_app.app_context():
        step_id = db.session.execute(
            db.select(Step.id).where(Step.phase == "discover")).scalar_one()
        assert redis_client.lrem(queue().key, 0, f"step-{step_id}") == 1
        assert reconcile() >= 1
    run_worker()
    with demo_app.app_context():
        assert db.session.get(Step, step_id).state == "done"
