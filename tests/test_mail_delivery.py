"""A mail outage never loses a request or its email: failures are recorded and retried."""
from datetime import timedelta

from aiosmtpd.controller import Controller
from helpers import MailSink, run_worker, submit

from app.extensions import db
from app.models import DataRequest, MailMessage, utcnow
from scripts.devredis import free_port
from workflows.mail_jobs import deliver_mail
from workflows.reconcile import reconcile


def test_smtp_down_keeps_the_request_and_delivers_after_recovery(make_app, monkeypatch,
                                                                  redis_client):
    port = free_port()
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(port))
    app = make_app()
    client = app.test_client()
    assert submit(client).status_code == 303  # the person sees no difference

    run_worker()  # nothing listens on the port: delivery fails, RQ schedules a retry
    with app.app_context():
        state = db.session.execute(db.select(DataRequest.state)).scalar_one()
        assert state == "pending_verification"
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        assert message.state == "queued" and message.attempts == 1
        assert message.last_error.startswith("ConnectionRefusedError")
        assert "example.com" not in message.last_error

    # Redis restarts empty: the scheduled retry is gone, only the database remembers.
    redis_client.flushdb()
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with app.app_context():
            assert reconcile() == 1
            assert reconcile() == 0  # its job is queued now: not enqueued twice
        run_worker()
    finally:
        controller.stop()
    assert len(sink.messages) == 1
    assert sink.messages[0]["Subject"].startswith("Confirm your privacy request")
    with app.app_context():
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        assert (message.state, message.attempts) == ("sent", 2)


def test_mail_left_sending_by_a_killed_worker_is_sent_again(mail_app, smtp_server):
    _, sink = smtp_server
    submit(mail_app.test_client())
    with mail_app.app_context():
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        # As a worker SIGKILLed between claiming and sending would leave it.
        message.state, message.claimed_at = "sending", utcnow() - timedelta(minutes=11)
        db.session.commit()
    run_worker()  # the original job finds the row claimed and does nothing
    assert sink.messages == []
    with mail_app.app_context():
        assert reconcile() == 1
    run_worker()
    assert len(sink.messages) == 1


def test_delivery_is_idempotent(mail_app, smtp_server):
    _, sink = smtp_server
    submit(mail_app.test_client())
    run_worker()
    with mail_app.app_context():
        mail_id = db.session.execute(db.select(MailMessage.id)).scalar_one()
        assert deliver_mail(mail_id) == "not queued"
    assert len(sink.messages) == 1
