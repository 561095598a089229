"""Outgoing mail: written to the database with the change that causes it, delivered by a job.

`queue_mail` adds a MailMessage row to the caller's transaction, its text and HTML parts
rendered then or (on the intake path) by the delivering worker; the caller enqueues
`workflows.mail_jobs.deliver_mail` after committing. Delivery goes to SMTP when MAIL_SERVER is
set, otherwise to `.eml` files in the outbox folder.
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
from .locales import in_locale
from .models import DataRequest, MailMessage, utcnow
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


def queue_mail(data_request, kind, *, render_later=False, **context):
    """Add mail `kind` for the request's email address to the session.

    The body is rendered now, or, with `render_later`, by the worker that delivers it: the
    intake path stores only `context` (plain JSON values), so a person's POST does not pay for
    rendering two templates, and holds the database's write lock for less time.
    """
    with in_locale(data_request.locale):
        subject = str(SUBJECTS[kind]).format(reference=data_request.reference)
    message = MailMessage(request_id=data_request.id, kind=kind, to_addr=data_request.email,
                          subject=subject)
    if render_later:
        message.context = context
    else:
        message.body_text, message.body_html = render_bodies(data_request, kind, context)
    db.session.add(message)
    return message


def render_bodies(data_request, kind, context):
    """The text and HTML parts of mail `kind`, in the language the request was made in."""
    context = {"req": data_request, "type_names": TYPE_NAMES,
               "company": current_app.config["COMPANY_NAME"],
               "contact": current_app.config["COMPANY_CONTACT"], **context}
    with in_locale(data_request.locale):
        return (render_template(f"mail/{kind}.txt", **context),
                render_template(f"mail/{kind}.html", **context))


def bodies(message):
    """A message's text and HTML: as stored, or rendered now from its context."""
    if message.body_text is None and message.context is not None:
        return render_bodies(db.session.get(DataRequest, message.request_id), message.kind,
                             message.context)
    return message.body_text, message.body_html


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
    text, html = bodies(message)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
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
