"""A store that fails must not put the person's data in the worker log: RQ logs the traceback a
job raises and keeps it in its failed registry, and a driver's message quotes the statement's
values (SQLAlchemy's "[parameters: ('bob@example.com', ...)]")."""
import logging
import traceback

import pytest
import sqlalchemy as sa
from test_staff_access import make_request

from app.extensions import db
from app.models import Step
from workflows.datamap import load_datamap
from workflows.steps import run_step
from workflows.stores import StoreError, make_store

TAKEN = "bob@example.com"  # another customer's address: the UNIQUE constraint refuses it

STORES = """
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///{path}"
purpose = "Run the service"
  [[stores.tables]]
  table = "users"
  match = {{ column = "email", identity = "email" }}
  correctable = ["email"]
  on_erase = "delete"
"""


@pytest.fixture
def accounts_app(make_app, tmp_path, monkeypatch):
    """An app whose one store is a real SQLite database where alice and bob have accounts."""
    path = tmp_path / "accounts.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, "
                             "email VARCHAR(200) NOT NULL UNIQUE)"))
        conn.execute(sa.text("INSERT INTO users (email) VALUES ('alice@example.com'), (:taken)"),
                     {"taken": TAKEN})
    engine.dispose()
    stores = tmp_path / "stores.toml"
    stores.write_text(STORES.format(path=path))
    monkeypatch.setenv("STORES_CONFIG", str(stores))
    return make_app()


def test_a_failed_correction_raises_and_records_no_personal_data(accounts_app, caplog):
    app = accounts_app
    request_id = make_request(
        app, request_type="correction", state="in_progress", email="alice@example.com",
        corrections=[{"field": "email", "current": "alice@example.com", "proposed": TAKEN}],
        identities={"email": ["alice@example.com"]})
    with app.app_context():
        step = Step(request_id=request_id, phase="store", store="accounts")
        db.session.add(step)
        db.session.commit()
        step_id = step.id

    caplog.set_level(logging.INFO)
    with app.app_context(), pytest.raises(StoreError) as raised:
        run_step(step_id)  # the UPDATE hits UNIQUE(email): an IntegrityError in the store

    exc = raised.value
    shown_to_rq = str(exc) + "".join(traceback.format_exception(exc))
    assert "IntegrityError" in shown_to_rq
    assert TAKEN not in shown_to_rq and "alice@example.com" not in shown_to_rq
    assert TAKEN not in caplog.text and "alice@example.com" not in caplog.text
    with app.app_context():
        step = db.session.get(Step, step_id)
        assert step.error.startswith("IntegrityError") and TAKEN not in step.error
        assert step.state == "pending"  # still retried: RQ runs it again after the back-off


def test_a_store_statement_error_does_not_quote_its_values(accounts_app):
    # Whatever else catches it, the driver's error itself carries no bound values.
    config = load_datamap(accounts_app.config["STORES_CONFIG"]).stores[0]
    store = make_store(config)
    try:
        with pytest.raises(sa.exc.IntegrityError) as raised:
            store.correct({"email": {"alice@example.com"}}, {"email": TAKEN})
    finally:
        store.close()
    assert TAKEN not in "".join(traceback.format_exception(raised.value))
