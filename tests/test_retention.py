"""Closed requests are minimised CLOSED_REQUEST_RETENTION_DAYS after they closed: the portal
keeps that a request was made and answered (audit trail, dates), not who made it."""
from datetime import timedelta

import sqlalchemy as sa
from test_staff_access import AGENT, logged_in, make_request

from app.audit import verify_chain
from app.extensions import db
from app.models import AuditEvent, DataRequest, LinkNonce, MailMessage, utcnow
from workflows.expiry import minimise_closed_requests


def close(app, request_id, days_ago):
    """Backdate the closing, and leave a failed mail and a live link behind, as real life does."""
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        data_request.closed_at = utcnow() - timedelta(days=days_ago)
        data_request.details = "my other address is alice.old@example.com"
        db.session.add(MailMessage(request_id=request_id, kind="archive_ready", state="failed",
                                   to_addr=data_request.email, subject="Your data",
                                   body_text="Hello Alice Example", body_html="<p>Hello</p>"))
        db.session.add(LinkNonce(request_id=request_id, purpose="verify",
                                 nonce_hash=f"{request_id:064d}",
                                 expires_at=utcnow() + timedelta(days=1)))
        db.session.commit()


def test_old_closed_requests_keep_the_record_but_not_the_person(app):
    old = make_request(app, request_type="access", state="completed", email="alice@example.com")
    recent = make_request(app, request_type="export", state="completed", email="bob@example.com")
    still_open = make_request(app, request_type="access", state="in_progress",
                              email="carol@example.com")
    close(app, old, days_ago=731)
    close(app, recent, days_ago=10)

    with app.app_context():
        assert minimise_closed_requests() == 1
        assert minimise_closed_requests() == 0  # idempotent: nothing left to do

        data_request = db.session.get(DataRequest, old)
        assert data_request.email is None and data_request.name is None
        assert data_request.details is None and data_request.purged_at is not None
        assert data_request.email_hash and len(data_request.email_hash) == 64
        assert data_request.state == "completed" and data_request.closed_at is not None
        mail = db.session.execute(db.select(MailMessage).where(
            MailMessage.request_id == old)).scalar_one()
        assert (mail.to_addr, mail.body_text, mail.body_html) == (None, None, None)
        assert db.session.query(LinkNonce).filter_by(request_id=old).count() == 0
        actions = db.session.execute(db.select(AuditEvent.action).where(
            AuditEvent.request_id == old).order_by(AuditEvent.seq)).scalars().all()
        assert actions[-1] == "minimised"
        assert verify_chain(data_request).ok

        for kept, email in ((recent, "bob@example.com"), (still_open, "carol@example.com")):
            row = db.session.get(DataRequest, kept)
            assert row.email == email and row.name == "Alice Example" and row.purged_at is None

    # Staff can still find the record when the person writes again, through the keyed hash.
    agent = logged_in(app, AGENT)
    with app.app_context():
        reference = db.session.get(DataRequest, old).reference
    page = agent.get("/staff/?state=all&q=Alice@Example.com").get_data(as_text=True)
    assert reference in page


def test_the_retention_period_is_a_setting(make_app):
    app = make_app(CLOSED_REQUEST_RETENTION_DAYS=5)
    request_id = make_request(app, request_type="correction", state="rejected")
    close(app, request_id, days_ago=6)
    result = app.test_cli_runner().invoke(args=["requests", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 closed request(s) past retention minimised" in result.output
    with app.app_context():
        assert db.session.get(DataRequest, request_id).email is None


def test_a_deletions_last_email_that_failed_for_good_is_forgotten(app):
    """Deletions are minimised at completion, with their last email still queued: if it then
    fails for good, the next retention run clears its address and body."""
    from workflows.expiry import minimise

    request_id = make_request(app, request_type="deletion", state="completed",
                              email="alice@example.com")
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        db.session.add(MailMessage(request_id=request_id, kind="erasure_done", state="failed",
                                   to_addr="alice@example.com", subject="Erased",
                                   body_text="Hello Alice Example", body_html="<p>Hello</p>",
                                   context={"status_url": "http://portal.test/status/t"}))
        db.session.add(MailMessage(request_id=request_id, kind="erasure_done", state="queued",
                                   to_addr="alice@example.com", subject="Erased",
                                   body_text="Hello Alice Example", body_html="<p>Hello</p>"))
        minimise(data_request)
        db.session.commit()
        assert minimise_closed_requests() == 0  # already minimised: only its mail is looked at
        failed, queued = db.session.execute(
            db.select(MailMessage).order_by(MailMessage.id)).scalars().all()
        assert (failed.to_addr, failed.body_text, failed.body_html) == (None, None, None)
        # Cleared in SQL's eyes too (a JSON column stores None as the JSON value null unless
        # told otherwise, and `IS NULL` would keep finding the row).
        left = db.session.execute(sa.text(
            "SELECT COUNT(*) FROM mail_messages WHERE state = 'failed' AND context IS NULL")
        ).scalar_one()
        assert left == 1
        # Still to be sent: it keeps what it needs (sending clears it).
        assert queued.to_addr == "alice@example.com" and queued.body_text
