"""Outgoing mail: written to the database with the change that causes it, delivered by a job.

`queue_mail` renders the text and HTML parts and adds a MailMessage row to the caller's
transaction; the caller enqueues `workflows.mail_jobs.deliver_mail` after committing. Delivery
goes to SMTP when MAIL_SERVER is set, otherwise to `.eml` files in the outbox folder.
"""
import os
import smtplib
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlparse

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from .extensions import db
from .i18n import in_locale
from .models import MailMessage, utcnow
from .queue import enqueue

SUBJECTS = {
    "verify": _l("Confirm your privacy request {reference}"),
    "acknowledge": _l("We have your privacy request {reference}"),
    "cancelled": _l("Your privacy request {reference} was cancelled"),
    "archive_ready": _l("Your data is ready to download ({reference})"),
    "erasure_done": _l("Your data has been erased ({reference})"),
    "correction_done": _l("Your data has been corrected ({reference})"),
    # Staff console (app/staff) and SLA sweep (workflows/sla.py); the last three go to staff.
    "rejected": _l("Your privacy request {reference} was declined"),
    "extended": _l("We need more time for your privacy request {reference}"),
    "cancelled_by_staff": _l("Your privacy request {reference} was closed"),
    "reminder": "Reminder: privacy request {reference} is due soon",
    "escalation": "Overdue: privacy request {reference}",
    "digest": "Privacy requests digest for {reference}",
}


DELIVER_MAIL = "workflows.mail_jobs.deliver_mail"


def mail_job_id(mail_id):
    """One job id per message: enqueueing the same mail twice never queues it twice."""
    return f"mail-{mail_id}"


def deliver_later(mail_ids):
    """Enqueue delivery of mail rows; call only after the transaction that wrote them commits."""
    for mail_id in mail_ids:
        enqueue(DELIVER_MAIL, mail_id, job_id=mail_job_id(mail_id))


# Request types as a sentence says them ("your access request").
TYPE_NAMES = {"access": _l("access"), "export": _l("export"), "correction": _l("correction"),
              "deletion": _l("deletion")}


def queue_mail(data_request, kind, **context):
    """Render mail `kind` for the request's email address and add it to the session."""
    context.setdefault("req", data_request)
    context.setdefault("type_names", TYPE_NAMES)
    context.setdefault("company", current_app.config["COMPANY_NAME"])
    context.setdefault("contact", current_app.config["COMPANY_CONTACT"])
    with in_locale(data_request.locale):
        message = MailMessage(
            request_id=data_request.id,
            kind=kind,
            to_addr=data_request.email,
            subject=str(SUBJECTS[kind]).format(reference=data_request.reference),
            body_text=render_template(f"mail/{kind}.txt", **context),
            body_html=render_template(f"mail/{kind}.html", **context),
        )
    db.session.add(message)
    return message


def build_email(message, config):
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    # A stable Message-ID per row: a retried delivery is recognisably the same email.
    domain = urlparse(config["BASE_URL"]).hostname or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"dsr-mail-{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


def deliver(email, config):
    """Send one EmailMessage through SMTP, or write it to the outbox folder atomically."""
    if config["MAIL_SERVER"]:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(email)
        return
    outbox = Path(config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    fd, tmp = tempfile.mkstemp(dir=outbox, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(email))
    os.chmod(tmp, 0o600)
    os.replace(tmp, outbox / f"{stamp}-{email['Message-ID'].strip('<>').split('@')[0]}.eml")
