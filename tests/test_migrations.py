"""Migrations build the schema from nothing, go down and up with data, and match the models."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from app.factory import create_app

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def migrated_app(request, env, tmp_path, monkeypatch):
    if request.param == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run this test")
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app()
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        yield app
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def tables():
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_nothing_matches_the_models(migrated_app):
    upgrade()
    assert tables() == set(db.metadata.tables)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_down_and_up_again_with_data(migrated_app):
    upgrade()
    db.session.execute(text(
        "INSERT INTO data_requests (reference, request_type, state, region, regime, email, "
        "timezone, received_at, audit_count) VALUES ('DSR-TEST-0001', 'access', "
        "'pending_verification', 'eu', 'gdpr', 'a@example.com', 'UTC', '2026-11-27 10:00:00', 0)"))
    db.session.commit()
    downgrade(revision="base")
    assert tables() == set()
    upgrade()
    assert tables() == set(db.metadata.tables)


def test_database_refuses_an_unknown_state(migrated_app):
    upgrade()
    with pytest.raises(Exception) as caught:
        db.session.execute(text(
            "INSERT INTO data_requests (reference, request_type, state, region, regime, email, "
            "timezone, received_at, audit_count) VALUES ('DSR-TEST-0002', 'access', 'done', "
            "'eu', 'gdpr', 'a@example.com', 'UTC', '2026-11-27 10:00:00', 0)"))
        db.session.commit()
    db.session.rollback()
    assert "ck_data_requests_state" in str(caught.value) or "CHECK" in str(caught.value)


def test_database_refuses_a_verified_request_without_verified_time(migrated_app):
    upgrade()
    with pytest.raises(Exception) as caught:
        db.session.execute(text(
            "INSERT INTO data_requests (reference, request_type, state, region, regime, email, "
            "timezone, received_at, audit_count) VALUES ('DSR-TEST-0003', 'access', 'verified', "
            "'eu', 'gdpr', 'a@example.com', 'UTC', '2026-11-27 10:00:00', 0)"))
        db.session.commit()
    db.session.rollback()
    assert "verified_has_time" in str(caught.value) or "CHECK" in str(caught.value)
