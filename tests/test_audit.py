"""The audit trail is a hash chain: it verifies, and an edited, removed or truncated event shows."""
from helpers import csrf_token, submit
from sqlalchemy import func
from test_links import verify_path

from app.audit import record
from app.extensions import db
from app.models import AuditEvent, DataRequest


def make_history(app):
    client = app.test_client()
    submit(client)
    path = verify_path(app)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    with app.app_context():
        return db.session.execute(db.select(DataRequest.reference)).scalar_one()


def run_verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_untouched_chain_verifies(app):
    reference = make_history(app)
    result = run_verify(app, reference)
    assert result.exit_code == 0, result.output
    assert "1 chain(s) checked, 0 broken" in result.output
    assert run_verify(app).exit_code == 0


def test_edited_event_is_detected_and_located(app):
    reference = make_history(app)
    with app.app_context():
        db.session.execute(db.update(AuditEvent).where(AuditEvent.seq == 1)
                           .values(actor="someone-else"))
        db.session.commit()
    result = run_verify(app, reference)
    assert result.exit_code == 1
    assert f"BROKEN {reference}: event #1" in result.output and "altered" in result.output


def test_removed_last_event_is_detected(app):
    make_history(app)
    with app.app_context():
        last = db.session.execute(db.select(func.max(AuditEvent.seq))).scalar_one()
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.seq == last))
        db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert "newest events are missing" in result.output


def test_removed_middle_event_is_detected(app):
    reference = make_history(app)
    with app.app_context():
        # Give the chain a third event, then cut out the second.
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        record(data_request, "staff@example.com", "note", reason="called the person")
        db.session.commit()
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.seq == 2))
        db.session.commit()
    result = run_verify(app, reference)
    assert result.exit_code == 1
    assert "event #2 is missing" in result.output


def test_unknown_reference_is_a_clear_error(app):
    result = run_verify(app, "DSR-NOPE-NOPE")
    assert result.exit_code != 0 and "no request with reference" in result.output
