"""Reliability under failure: the database, Redis, SMTP or a worker goes away, and afterwards
every request is there once, every email goes out, every workflow completes once.

Real Redis, real RQ worker processes, real SMTP. `make soak` (DSR_SOAK=1) runs the same tests
at full strength: 500 concurrent submissions and 20 worker kills instead of 100 and 3.
"""
import os
import random
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from helpers import ROOT, MailSink, csrf_token, links_in, run_worker, submit
from rq import Queue
from rq.registry import ScheduledJobRegistry
from test_links import verify_path
from test_workflow_faults import kill_tree

from app.extensions import db
from app.lifecycle import begin_workflow, lock
from app.models import AuditEvent, DataRequest, Delivery, LinkNonce, MailMessage, Step
from app.queue import enqueue_step
from app.storage import storage
from scripts import devredis
from workflows.reconcile import reconcile
from workflows.steps import resolve_manual_step

SOAK = os.environ.get("DSR_SOAK", "") not in ("", "0")
CONCURRENT_SUBMISSIONS = 500 if SOAK else 100
WORKER_KILLS = 20 if SOAK else 3


def counts(app):
    with app.app_context():
        return {model.__name__: db.session.query(model).count()
                for model in (DataRequest, AuditEvent, LinkNonce, MailMessage)}


def form(**fields):
    data = {"request_type": "access", "email": "alice@example.com", "name": "Alice Example",
            "region": "eu", "details": "", "timezone": "Europe/Berlin"}
    data.update(fields)
    return data


# --- the database goes away ---------------------------------------------------------------

def test_unreachable_database_gives_a_503_page_in_words(make_app, tmp_path):
    make_app()  # the real database, with its tables
    if os.environ.get("TEST_DATABASE_URL"):
        # A closed port: the connection is refused at once (connect_timeout bounds the rest).
        dead = f"postgresql+psycopg://postgres@127.0.0.1:{devredis.free_port()}/x?connect_timeout=2"
    else:
        dead = f"sqlite:///{tmp_path / 'no-such-folder' / 'dsr.db'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=dead)
    client = app.test_client()
    token = csrf_token(client, "/requests/new")  # the form itself needs no database
    response = client.post("/requests/new", data=form(csrf_token=token))
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page and "nothing was saved" in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()
    assert response.headers["Content-Security-Policy"].count("frame-ancestors 'none'") == 1
    assert client.get("/healthz").status_code == 503


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite file locking")
def test_locked_database_during_intake_gives_503_and_writes_nothing(make_app, env):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.3},
                                              "hide_parameters": True})
    client = app.test_client()
    token = csrf_token(client, "/requests/new")
    before = counts(app)
    # Another process holds the write lock (a long migration, a backup taking a lock...).
    holder = sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"), timeout=1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post("/requests/new", data=form(csrf_token=token))
        assert response.status_code == 503
        assert "nothing was saved" in response.get_data(as_text=True)
    finally:
        holder.rollback()
        holder.close()
    assert counts(app) == before  # no request, no audit event, no nonce, no mail
    # The same person tries again a minute later and it simply works.
    assert submit(client).status_code == 303
    after = counts(app)
    assert after["DataRequest"] == before["DataRequest"] + 1
    assert after["MailMessage"] == before["MailMessage"] + 1


# --- Redis goes away ----------------------------------------------------------------------

def test_redis_down_during_intake_accepts_and_mails_after_redis_returns(
        make_app, smtp_server, monkeypatch, tmp_path):
    controller, sink = smtp_server
    folder = tmp_path / "own-redis"
    process, url = devredis.start(folder, persist=False)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setenv("REDIS_URL", url)  # also for the worker processes below
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    app = make_app()
    client = app.test_client()
    token = csrf_token(client, "/requests/new")
    process.terminate()
    process.wait(timeout=10)
    try:
        # The rate limiter and the enqueue both fail: the request is still taken.
        response = client.post("/requests/new", data=form(csrf_token=token))
        assert response.status_code == 303
        with app.app_context():
            message = db.session.execute(db.select(MailMessage)).scalar_one()
            assert message.state == "queued"
            assert db.session.execute(db.select(DataRequest.state)).scalar_one() == \
                "pending_verification"
        process, _ = devredis.start(folder, port=port, persist=False)
        with app.app_context():
            assert reconcile() == 1  # the cron's reconciler finds the mail without a job
        run_worker()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert len(sink.messages) == 1
    assert any("/verify/" in link for link in links_in(sink.messages[0]))


# --- SMTP goes away for a long time -------------------------------------------------------

def fast_forward_scheduled_jobs(app):
    """Make RQ's scheduled retries due now, as if their back-off had passed."""
    with app.app_context():
        from app.queue import queue

        q: Queue = queue()
        registry = ScheduledJobRegistry(queue=q)
        for job in registry.get_job_ids():
            registry.schedule(q.fetch_job(job), datetime.now(UTC))
        return len(registry)


def test_smtp_down_through_every_retry_then_mail_is_delivered(make_app, monkeypatch,
                                                              redis_client):
    port = devredis.free_port()
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(port))
    app = make_app()
    client = app.test_client()
    assert submit(client).status_code == 303
    # The first try and RQ's 5 retries (back-off up to 15 minutes, 22 minutes in all), then
    # the reconciler (every minute) once its job has failed for good: an outage of more than
    # twenty minutes, the clock fast-forwarded between attempts.
    for _ in range(7):
        if not fast_forward_scheduled_jobs(app):
            with app.app_context():
                reconcile()
        run_worker()
    with app.app_context():
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        assert message.state == "queued" and message.attempts == 7, message.attempts
        assert message.last_error.startswith("ConnectionRefusedError")
        assert db.session.execute(db.select(DataRequest.state)).scalar_one() == \
            "pending_verification"
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        if not fast_forward_scheduled_jobs(app):
            with app.app_context():
                reconcile()
        run_worker()
    finally:
        controller.stop()
    assert len(sink.messages) == 1
    with app.app_context():
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        assert (message.state, message.attempts) == ("sent", 8)
    # The request is unaffected: the link in the late email still confirms it.
    verify = next(link for link in links_in(sink.messages[0]) if "/verify/" in link)
    path = verify.removeprefix("http://portal.test")
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303
    with app.app_context():
        # Verified, and an access request starts at once.
        assert db.session.execute(db.select(DataRequest.state)).scalar_one() == "in_progress"


# --- many people at once ------------------------------------------------------------------

def test_a_new_process_under_load_makes_one_redis_client(make_app):
    """The first requests of a fresh process arrive together. Each used to make its own
    client; the ones that lost the race were collected while their command was running, and
    closing their pool tore down its connection: a 500 ("Bad file descriptor") per loser."""
    from concurrent.futures import ThreadPoolExecutor as Pool
    from threading import Barrier

    from app.queue import redis_connection

    def first_use(app, start):
        start.wait()
        with app.app_context():
            client = redis_connection()
            assert client.pipeline().incr("dsr:test:first-use").execute()
            return id(client)

    for _ in range(5):
        app, start = make_app(), Barrier(16)
        with Pool(max_workers=16) as pool:
            clients = pool.map(lambda _: first_use(app, start), range(16))  # noqa: B023
            assert len(set(clients)) == 1


def test_concurrent_submissions_make_one_request_and_one_email_each(
        make_app, smtp_server, monkeypatch):
    controller, sink = smtp_server
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    monkeypatch.setenv("RATE_INTAKE", "100000")  # one address for every test client
    app = make_app()
    total = CONCURRENT_SUBMISSIONS

    def person(n):
        client = app.test_client()  # one browser per person: its own cookies
        response = submit(client, email=f"person{n}@example.com", name=f"Person {n}")
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(person, range(total)))
    assert [s for s in statuses if s != 303] == []
    with app.app_context():
        emails = db.session.execute(db.select(DataRequest.email)).scalars().all()
        assert sorted(emails) == sorted(f"person{n}@example.com" for n in range(total))
        verify_mails = db.session.execute(
            db.select(MailMessage.to_addr).where(MailMessage.kind == "verify")).scalars().all()
        assert len(verify_mails) == total
    run_worker(timeout=60 + total)
    delivered = sorted(str(m["To"]) for m in sink.messages)
    assert delivered == sorted(f"person{n}@example.com" for n in range(total))


# --- workers killed at random points ------------------------------------------------------

@pytest.fixture
def crash_app(monkeypatch, request):
    """The demo app, with a short heartbeat limit so killed jobs count as lost quickly."""
    monkeypatch.setenv("STALE_JOB_SECONDS", "2")
    return request.getfixturevalue("demo_app")


def open_verified(app, client, email, request_type):
    extra = {"confirm": "y"} if request_type == "deletion" else {}
    assert submit(client, email=email, request_type=request_type, **extra).status_code == 303
    path = verify_path(app)
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303


def approve_deletions(app):
    with app.app_context():
        ids = db.session.execute(db.select(DataRequest.id).where(
            DataRequest.state == "verified")).scalars().all()
        for request_id in ids:
            step_id = begin_workflow(lock(request_id), "agent@craftos.net", "approved")
            db.session.commit()
            enqueue_step(step_id)


def recover(app):
    """What the cron and staff do: reconcile lost jobs, resolve the manual store's step."""
    time.sleep(2.5)  # past STALE_JOB_SECONDS: the killed job's heartbeat is old
    with app.app_context():
        reconcile()
        for step in db.session.execute(
                db.select(Step).where(Step.state == "waiting")).scalars().all():
            resolve_manual_step(step, "agent@craftos.net", "processor holds nothing more")


def open_requests(app):
    with app.app_context():
        return db.session.execute(db.select(DataRequest.id).where(
            DataRequest.state.in_(["verified", "in_progress", "needs_attention"]))).all()


@pytest.mark.slow
def test_worker_killed_at_random_points_every_workflow_completes_once(crash_app):
    app = crash_app
    client = app.test_client()
    kinds = {"alice@example.com": "access", "bob@example.com": "export",
             "kenji@example.com": "deletion"}
    for email, request_type in kinds.items():
        open_verified(app, client, email, request_type)
    approve_deletions(app)
    chance = random.Random(os.environ.get("DSR_KILL_SEED"))
    for _ in range(WORKER_KILLS):
        if not open_requests(app):
            break
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        # Workers take about a second to start; the work for all three takes several more.
        time.sleep(chance.uniform(1.0, 4.0))
        kill_tree(worker.pid)
        worker.wait(timeout=10)
        recover(app)
    for _ in range(6):
        if not open_requests(app):
            break
        run_worker(timeout=120)
        recover(app)

    with app.app_context():
        requests = db.session.execute(db.select(DataRequest)).scalars().all()
        steps = [(s.request_id, s.phase, s.store, s.state, s.attempts, s.error) for s in
                 db.session.execute(db.select(Step).where(Step.state != "done")).scalars()]
        assert {r.request_type: r.state for r in requests} == {
            "access": "completed", "export": "completed", "deletion": "completed"}, steps
        for data_request in requests:
            deliveries = db.session.execute(db.select(Delivery.kind).where(
                Delivery.request_id == data_request.id)).scalars().all()
            expected = "certificate" if data_request.request_type == "deletion" else "archive"
            assert deliveries == [expected], (data_request.request_type, deliveries)
            key = db.session.execute(db.select(Delivery.path).where(
                Delivery.request_id == data_request.id)).scalar_one()
            assert storage().local_path(key).exists()
            actions = db.session.execute(db.select(AuditEvent.action).where(
                AuditEvent.request_id == data_request.id)).scalars().all()
            for once in ("submitted", "verified", "started", "completed"):
                assert actions.count(once) == 1, (data_request.request_type, actions)
            steps = db.session.execute(db.select(Step.phase, Step.store).where(
                Step.request_id == data_request.id)).all()
            assert len(steps) == len(set(steps)), steps  # no step row twice
            done_mails = db.session.execute(db.select(MailMessage.kind).where(
                MailMessage.request_id == data_request.id,
                MailMessage.kind.in_(["archive_ready", "erasure_done"]))).scalars().all()
            assert len(done_mails) == 1, done_mails
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "0 broken" in result.output


# --- logs under gunicorn ------------------------------------------------------------------

def test_an_unhandled_error_on_a_token_page_is_logged_without_the_token(make_app, caplog):
    """Flask logs "Exception on <path>" through the app's own logger: the path carries the
    person's token, which must not reach the log any more than in the access log."""
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def explode(token):
        raise RuntimeError("a bug")

    app.add_url_rule("/download/<token>/explode", "explode", explode)
    with caplog.at_level("ERROR"):
        response = app.test_client().get("/download/abc.def-SECRET/explode")
    assert response.status_code == 500
    logged = "\n".join(caplog.messages) + caplog.text
    assert "Exception on /download/<token>/explode" in logged
    assert "SECRET" not in logged


def written_by(logger_name, *records):
    """What the named logger writes for `records` ((format, args) pairs), filters applied."""
    import io
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for message, args in records:
            logger.info(message, args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_staff_searches_reach_the_access_log_without_the_address_searched_for(app):
    """The queue's search box is a GET form: its value (an email, a name) is in the request
    line, and in the `next` of a login that follows it."""
    lines = written_by(
        "werkzeug",
        ('"%s" 200', "GET /staff/?q=alice@example.com&state=all HTTP/1.1"),
        ('"%s" 200', "GET /staff/login?next=%2Fstaff%2F%3Fq%3Dalice%2540example.com HTTP/1.1"))
    assert "alice" not in lines
    assert "/staff/?q=<redacted>&state=all" in lines and "login?next=<redacted> " in lines


def test_gunicorn_access_log_lines_are_written_with_tokens_redacted(app):
    """gunicorn formats its access log from a mapping of atoms, not a tuple of arguments."""
    from gunicorn.glogging import SafeAtoms

    atoms = SafeAtoms({"h": "127.0.0.1", "r": "GET /verify/abc.def-SECRET HTTP/1.1",
                       "U": "/status/ghi.jkl-SECRET", "s": "400"})
    line = written_by("gunicorn.access", ('%(h)s "%(r)s" %(U)s %(s)s %({x-forwarded-for}i)s',
                                          atoms))
    assert line == '127.0.0.1 "GET /verify/<token> HTTP/1.1" /status/<token> 400 -\n'
