"""Export (Art. 20) carries only portable data, and says what it left out; access carries all.

End to end with a real RQ worker, real Redis and real SQLite stores: a company whose data map
marks a scores table, a whole profiling store and a staff-notes task as not portable.
"""
import io
import json
import sqlite3
import zipfile

import pytest
from helpers import run_worker, submit
from test_workflows import cli, confirm

from app.extensions import db
from app.models import DataRequest, Delivery, Step
from app.storage import storage

DATAMAP = """\
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///{db}"
  [[stores.tables]]
  table = "users"
  match = {{ column = "email", identity = "email" }}
  provides = {{ user_id = "id" }}
  on_erase = "delete"
  [[stores.tables]]
  table = "risk_scores"
  match = {{ column = "user_id", identity = "user_id" }}
  on_erase = "delete"
  portable = false
[[stores]]
name = "profiling"
kind = "sql"
url = "sqlite:///{db}"
  [[stores.tables]]
  table = "interest_profiles"
  match = {{ column = "user_id", identity = "user_id" }}
  on_erase = "delete"
  portable = false
[[stores]]
name = "staff_notes"
title = "Notes our support team keeps"
kind = "manual"
instructions = "Copy the notes support keeps about the customer from the helpdesk."
portable = false
"""

LEFT_OUT = [
    {"store": "accounts", "whole_store": False, "tables": ["risk_scores"]},
    {"store": "profiling", "whole_store": True, "tables": ["interest_profiles"]},
    {"store": "staff_notes", "whole_store": True, "tables": []},
]


@pytest.fixture
def company_app(make_app, monkeypatch, tmp_path):
    """An app on a small company whose data map has portable and non-portable data."""
    path = tmp_path / "company.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
            CREATE TABLE risk_scores (user_id INTEGER NOT NULL, churn_risk REAL NOT NULL);
            CREATE TABLE interest_profiles (user_id INTEGER NOT NULL, segment TEXT NOT NULL);
            INSERT INTO users VALUES (1, 'alice@example.com', 'Alice'),
                                     (2, 'bob@example.com', 'Bob');
            INSERT INTO risk_scores VALUES (1, 0.82), (2, 0.1);
            INSERT INTO interest_profiles VALUES (1, 'power user'), (1, 'likely upgrader');
        """)
    conn.close()
    stores = tmp_path / "stores.toml"
    stores.write_text(DATAMAP.format(db=path))
    monkeypatch.setenv("STORES_CONFIG", str(stores))
    monkeypatch.setenv("ARCHIVE_ENCRYPTION", "none")  # the worker processes read it too
    monkeypatch.setenv("STEP_RETRY_INTERVALS", "1")
    return make_app()


def request_of_type(app, request_type):
    with app.app_context():
        data_request = db.session.execute(
            db.select(DataRequest).where(DataRequest.request_type == request_type)
        ).scalar_one()
        db.session.expunge(data_request)
        return data_request


def steps_by_store(app, data_request):
    with app.app_context():
        steps = db.session.execute(
            db.select(Step).where(Step.request_id == data_request.id, Step.phase == "store")
        ).scalars().all()
        for step in steps:
            db.session.expunge(step)
        return {s.store: s for s in steps}


def archive_of(app, data_request):
    with app.app_context():
        delivery = db.session.execute(
            db.select(Delivery).where(Delivery.request_id == data_request.id)
        ).scalar_one()
        with storage().open(delivery.path) as handle:
            return zipfile.ZipFile(io.BytesIO(handle.read()))


def ask(app, client, request_type):
    """Submit and confirm a request for Alice, then let a real worker run what it can."""
    submit(client, email="alice@example.com", request_type=request_type)
    confirm(client, app)
    run_worker()
    return request_of_type(app, request_type)


def test_export_leaves_out_what_is_not_portable_and_says_so(company_app):
    client = company_app.test_client()
    data_request = ask(company_app, client, "export")

    # Nothing waits for staff: the non-portable manual store made no task.
    assert data_request.state == "completed"
    steps = steps_by_store(company_app, data_request)
    assert {s: (st.state, st.records) for s, st in steps.items()} == {
        "accounts": ("done", 1), "profiling": ("done", 0), "staff_notes": ("done", 0)}
    assert steps["staff_notes"].result == {"records": {}, "not_portable": True}

    archive = archive_of(company_app, data_request)
    names = set(archive.namelist())
    assert "data/accounts/users.json" in names
    assert not any("risk_scores" in n or "profiling" in n or "staff_notes" in n for n in names)
    assert json.loads(archive.read("data/accounts/users.json"))[0]["email"] == "alice@example.com"

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["request_type"] == "export"
    assert "Art. 20" in manifest["scope"]
    assert manifest["not_portable"] == LEFT_OUT
    assert manifest["stores"] == {"accounts": {"records": {"users": 1}, "files": 0}}

    index = archive.read("index.html").decode()
    assert "export under Article 20 GDPR" in index
    left_out = index[index.index('id="not-portable"'):]
    for name in ("accounts", "risk_scores", "profiling"):
        assert name in left_out
    # A store left out whole was never staged: it is still named by its title.
    assert "Notes our support team keeps: the whole store" in left_out
    # Names only: no value of a left-out row is anywhere in the archive.
    for member in names:
        data = archive.read(member)
        assert b"0.82" not in data and b"likely upgrader" not in data


def test_access_archive_of_the_same_person_still_holds_every_store(company_app):
    client = company_app.test_client()
    data_request = ask(company_app, client, "access")
    assert data_request.state == "in_progress"  # the staff-notes task waits, as for any access
    cli(company_app, "requests", "resolve-step", data_request.reference, "staff_notes",
        "--by", "agent@example.com", "--note", "no notes about this customer")
    run_worker()
    data_request = request_of_type(company_app, "access")
    assert data_request.state == "completed"

    archive = archive_of(company_app, data_request)
    assert json.loads(archive.read("data/accounts/risk_scores.json")) == [
        {"user_id": 1, "churn_risk": 0.82}]
    assert len(json.loads(archive.read("data/profiling/interest_profiles.json"))) == 2
    manifest = json.loads(archive.read("manifest.json"))
    # The access manifest is what it always was: no export keys.
    assert set(manifest) == {"schema_version", "reference", "generated_at", "stores", "files"}
    assert manifest["stores"]["accounts"]["records"] == {"users": 1, "risk_scores": 1}
    index = archive.read("index.html").decode()
    assert "Article 20" not in index and "not-portable" not in index
