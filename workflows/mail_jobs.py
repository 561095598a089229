"""Mail delivery as an RQ job: claim the row, send, record the outcome.

At-least-once: a worker killed between sending and recording leaves the row `sending`; the
reconciler puts it back in the queue after SENDING_TIMEOUT, so the person may get the same email
twice (same Message-ID) but never none.
"""
import logging
import smtplib
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.mail import build_email, deliver
from app.models import MailMessage, utcnow

from .context import job

log = logging.getLogger(__name__)
SENDING_TIMEOUT = timedelta(minutes=10)


class MailDeferred(Exception):
    """What RQ receives when a delivery is to be tried again: class and SMTP codes only, since
    RQ logs the exception and the server's text can quote the recipient's address."""


def refusal_codes(exc):
    return sorted({code for code, _ in exc.recipients.values()})


def is_permanent(exc):
    """Only a refusal of the address itself with a 5xx code is final. A 4xx (greylisting's
    450, a full mailbox, a server busy) asks us to come back later."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    codes = refusal_codes(exc)
    return bool(codes) and all(500 <= code < 600 for code in codes)


def _claim(mail_id):
    now = utcnow()
    claimed = db.session.execute(
        db.update(MailMessage)
        .where(MailMessage.id == mail_id, MailMessage.state == "queued")
        .values(state="sending", claimed_at=now, attempts=MailMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


@job
def deliver_mail(mail_id):
    """Deliver one queued message; raise on a transient failure so RQ retries with back-off."""
    if not _claim(mail_id):
        return "not queued"
    message = db.session.get(MailMessage, mail_id)
    try:
        deliver(build_email(message, current_app.config), current_app.config)
    except (OSError, smtplib.SMTPException) as exc:
        failure = exc
    else:
        failure = None
    if failure is not None:
        # Handled outside the except block, so what RQ gets does not carry `exc` as context.
        message.last_error = _describe(failure)
        if is_permanent(failure):
            message.state = "failed"
            db.session.commit()
            log.error("mail %s refused permanently: %s", mail_id, message.last_error)
            return "failed"
        message.state = "queued"  # RQ's retry (or the reconciler) sends it again
        db.session.commit()
        raise MailDeferred(f"mail {mail_id}: {message.last_error}")
    message.state, message.sent_at, message.last_error = "sent", utcnow(), None
    # Body and address hold links and personal data: no reason to keep them once sent.
    message.body_text = message.body_html = message.context = message.to_addr = None
    db.session.commit()
    return "sent"


def _describe(exc):
    """Error class and SMTP code(s) only: SMTP error text can echo the recipient's address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = refusal_codes(exc)
    else:
        codes = [exc.smtp_code] if getattr(exc, "smtp_code", None) else []
    return type(exc).__name__ + (f" (SMTP {', '.join(map(str, codes))})" if codes else "")


def stale_mail_ids(now=None):
    """Messages that should be in flight but may have lost their job (crash, Redis restart)."""
    now = now or utcnow()
    db.session.execute(
        db.update(MailMessage)
        .where(MailMessage.state == "sending", MailMessage.claimed_at < now - SENDING_TIMEOUT)
        .values(state="queued")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(
        db.select(MailMessage.id).where(MailMessage.state == "queued").order_by(MailMessage.id)
    ).scalars().all()
