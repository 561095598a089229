"""The portal's own SQLite database: WAL for concurrent web and worker processes, and the
foreign keys the schema declares actually enforced (SQLite ignores them unless asked)."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import MailMessage


@pytest.fixture
def sqlite_app(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("these settings are for SQLite; this run uses TEST_DATABASE_URL")
    return app


def test_sqlite_runs_in_wal_mode_with_full_sync(sqlite_app):
    with sqlite_app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_sqlite_refuses_a_row_pointing_at_a_missing_request(sqlite_app):
    with sqlite_app.app_context():
        db.session.add(MailMessage(request_id=987654, kind="verify", subject="orphan"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.query(MailMessage).count() == 0
