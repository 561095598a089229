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
# Refusals that retrying cannot fix: the address itself was rejected.
PERMANENT = (smtplib.SMTPRecipientsRefused,)


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
    except PERMANENT as exc:
        message.state, message.last_error = "failed", _describe(exc)
        db.session.commit()
        log.error("mail %s refused permanently: %s", mail_id, message.last_error)
        return "failed"
    except (OSError, smtplib.SMTPException) as exc:
        message.state, message.last_error = "queued", _describe(exc)
        db.session.commit()
        raise
    message.state, message.sent_at, message.last_error = "sent", utcnow(), None
    # Body and address hold links and personal data: no reason to keep them once sent.
    message.body_text = message.body_html = message.context = message.to_addr = None
    db.session.commit()
    return "sent"


def _describe(exc):
    """Error class and SMTP code only: SMTP error text can echo the recipient's address."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}" + (f" (SMTP {code})" if code else "")


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
