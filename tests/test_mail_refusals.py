"""A recipient the SMTP server refuses: a temporary refusal (greylisting's 450) is tried again
until the mail goes; only a 5xx refusal fails it for good. Neither puts the address where RQ
logs it. Real SMTP server (aiosmtpd), real RQ worker, real Redis."""
import pytest
from aiosmtpd.controller import Controller
from helpers import MailSink, run_worker, submit

from app.extensions import db
from app.models import MailMessage
from scripts.devredis import free_port
from workflows.reconcile import reconcile


class RefusingRecipients(MailSink):
    """Refuses every recipient with `reply` (quoting the address, as real servers do) until
    told to accept."""

    def __init__(self, reply):
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return self.reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server(make_app, monkeypatch):
    def start(reply):
        handler = RefusingRecipients(reply)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        monkeypatch.setenv("MAIL_SERVER", controller.hostname)
        monkeypatch.setenv("MAIL_PORT", str(controller.port))
        return make_app(), handler

    started = []
    yield start
    for controller in started:
        controller.stop()


def the_mail(app):
    with app.app_context():
        message = db.session.execute(db.select(MailMessage)).scalar_one()
        db.session.expunge(message)
        return message


def test_a_greylisted_verify_email_is_sent_once_the_server_accepts_it(refusing_server,
                                                                      redis_client):
    app, server = refusing_server("450 4.2.0 <{address}>: greylisted, try again later")
    assert submit(app.test_client()).status_code == 303
    worker = run_worker()
    message = the_mail(app)
    assert (message.state, message.attempts) == ("queued", 1)
    assert message.last_error == "SMTPRecipientsRefused (SMTP 450)"
    logged = worker.stdout + worker.stderr
    assert "MailDeferred" in logged  # what RQ logged of the failure...
    assert "alice@example.com" not in logged  # ...without the address

    server.reply = None  # greylisting over: the next attempt is accepted
    redis_client.flushdb()  # do not wait for RQ's back-off: the reconciler re-enqueues it
    with app.app_context():
        assert reconcile() == 1
    run_worker()
    assert len(server.messages) == 1
    assert server.messages[0]["To"] == "alice@example.com"
    assert (the_mail(app).state, the_mail(app).attempts) == ("sent", 2)


def test_a_mailbox_refused_with_5xx_fails_for_good(refusing_server):
    app, server = refusing_server("550 5.1.1 <{address}>: no such user")
    assert submit(app.test_client()).status_code == 303
    worker = run_worker()
    message = the_mail(app)
    assert (message.state, message.last_error) == ("failed", "SMTPRecipientsRefused (SMTP 550)")
    assert "alice@example.com" not in worker.stdout + worker.stderr
    with app.app_context():
        assert reconcile() == 0  # nothing is tried again
