"""Taking in a request and confirming who asked: shared by the portal's pages and the API.

Each function works inside the caller's transaction and returns the ids of work to start once
the caller has committed (mail to deliver, a workflow step to run): jobs must never see rows
that might still roll back.
"""
from datetime import timedelta

from flask import current_app, url_for

from . import deadlines
from .audit import record
from .extensions import db
from .lifecycle import begin_workflow, transition, unconfirmed_expiry
from .locales import local_moment
from .mail import deliver_later, queue_mail
from .models import LinkNonce, utcnow
from .queue import enqueue_step
from .tokens import issue_verify_token, public_link


def external_url(endpoint, **values):
    """Links in emails are built from BASE_URL, never from the Host header of the request."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def status_url(data_request):
    return public_link("status", data_request.reference)


def send(data_request, kind, render_later=False, **context):
    """Queue a mail in the current transaction; returns its id for enqueueing after commit."""
    message = queue_mail(data_request, kind, render_later=render_later, **context)
    db.session.flush()
    return message.id


def open_request(data_request, actor, reason=None):
    """Add a new request, due date set from its regime and received_at; audit 'submitted'."""
    data_request.regime = deadlines.regime_for_region(data_request.region)
    data_request.due_at = deadlines.due_at(data_request.regime, data_request.received_at, None,
                                           current_app.config["PROMISE_DAYS"],
                                           data_request.timezone)
    db.session.add(data_request)
    db.session.flush()
    record(data_request, actor, "submitted", to_state="pending_verification", reason=reason)
    return data_request


def link_lifetime(seconds):
    """How a link's lifetime reads in a sentence: whole hours, or minutes under an hour (or
    when the setting is no whole number of hours), never "0 hours"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return {"valid_hours": seconds // 3600}
    return {"valid_minutes": max(1, seconds // 60)}


def send_verify_link(data_request):
    """Issue a single-use verify link and queue its email; returns the mail id.

    The link works VERIFY_TTL_SECONDS, but never past the moment an unconfirmed request
    expires (a link resent on day 7 would otherwise be promised for a day the request has
    not got): then the email gives that moment instead.
    """
    ttl = current_app.config["VERIFY_TTL_SECONDS"]
    until = unconfirmed_expiry(data_request)
    token = issue_verify_token(data_request)
    db.session.flush()
    db.session.execute(
        db.update(LinkNonce)
        .where(LinkNonce.request_id == data_request.id, LinkNonce.purpose == "verify",
               LinkNonce.expires_at > until)
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if until < utcnow() + timedelta(seconds=ttl):
        lifetime = {"valid_until": local_moment(until, data_request.timezone,
                                                data_request.locale)}
    else:
        lifetime = link_lifetime(ttl)
    return send(data_request, "verify", render_later=True,
                verify_url=external_url("portal.verify", token=token), **lifetime)


def confirm_identity(data_request, actor, reason, verified_at=None):
    """Mark a locked request verified; start access and export at once (AUTO_START_TYPES).

    `verified_at` backdates the verification (an API caller vouching at submitted_time): the
    deadline is then computed from that moment, not from now. Returns the step id to enqueue,
    or None.
    """
    transition(data_request, "verified", actor, reason=reason)
    if verified_at is not None:
        data_request.verified_at = verified_at
        data_request.due_at = deadlines.due_at(data_request.regime, data_request.received_at,
                                               verified_at, current_app.config["PROMISE_DAYS"],
                                               data_request.timezone)
    if data_request.request_type in current_app.config["AUTO_START_TYPES"]:
        return begin_workflow(data_request, "system", "access and export start on verification")
    return None


def start_after_commit(mail_ids=(), step_id=None):
    deliver_later(mail_ids)
    if step_id is not None:
        enqueue_step(step_id)
