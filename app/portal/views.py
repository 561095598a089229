"""Public pages. They write the portal's own records and enqueue work; they never touch a store."""
import logging

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf

from .. import deadlines
from ..audit import record
from ..extensions import db
from ..i18n import current_language
from ..intake import (
    confirm_identity,
    deliver_later,
    link_lifetime,
    open_request,
    send,
    send_verify_link,
    start_after_commit,
    status_url,
)
from ..lifecycle import TransitionError, has_expired, lock, transition
from ..models import DataRequest, Step, new_reference, utcnow
from ..ratelimit import RateLimited, hit
from ..tokens import (
    LinkError,
    consume_nonce,
    email_hash,
    make_link_token,
    nonce_is_live,
    read_link_token,
)
from . import bp
from .forms import CancelForm, ConfirmForm, IntakeForm, ResendForm


@bp.get("/")
def index():
    return render_template("portal/index.html")


log = logging.getLogger(__name__)
CSRF_SLOT = "\x00csrf\x00"


def blank_form_page():
    """The empty intake form, rendered once per language and then reused with a fresh token.

    It is the busiest page and the same for everyone apart from the CSRF token: rendering its
    fields through WTForms and Jinja cost most of the time of a GET. Only the bare URL (or a
    language switch) is cached, so anything that would fill the form in renders normally; in
    development templates are re-read, so nothing is cached.
    """
    token = generate_csrf()
    cache = current_app.extensions.setdefault("dsr_blank_forms", {})
    cacheable = not current_app.debug and set(request.args) <= {"lang"}
    page = cache.get(current_language()) if cacheable else None
    if page is None:
        html = render_template("portal/new.html", form=IntakeForm())
        if not cacheable or html.count(token) != 1:
            return html
        page = cache[current_language()] = html.replace(token, CSRF_SLOT)
    return page.replace(CSRF_SLOT, token)


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request():
    if request.method == "GET":
        return blank_form_page()
    form = IntakeForm()
    hit("intake")
    if not form.validate():
        return render_template("portal/new.html", form=form), 400

    email = form.email.data.lower()
    try:
        hit("recipient", key=email_hash(email, current_app.config["SECRET_KEY"]))
    except RateLimited:
        # Many requests for one address this hour, from wherever they came: store and mail
        # nothing more, and answer as for any address (what we know stays unknowable).
        log.warning("intake: per-address limit reached; request not stored, no mail sent")
        # The same page as any submission, its "send the link again" button included (which
        # then sends nothing): no sign that this address was asked about this hour. The session
        # cookie is readable, so it carries a fresh reference like any other; no request has
        # it, so a resend counts against the same limits and finds nothing to send.
        session["intake_reference"] = new_reference()
        return redirect(url_for("portal.sent"), code=303)
    zone = form.timezone.data if deadlines.is_valid_zone(form.timezone.data or "") else "UTC"
    data_request = open_request(DataRequest(
        request_type=form.request_type.data, region=form.region.data,
        email=email, name=form.name.data, details=form.details.data or None,
        corrections=form.proposed_corrections() or None, timezone=zone, received_at=utcnow(),
    ), "subject")
    mail_id = send_verify_link(data_request)
    reference = data_request.reference  # read before commit expires it (no reload query)
    db.session.commit()
    deliver_later([mail_id])
    # The same page whatever the address: nothing here depends on whether we know the person.
    session["intake_reference"] = reference
    return redirect(url_for("portal.sent"), code=303)


@bp.get("/requests/sent")
def sent():
    return render_template("portal/sent.html", form=ResendForm(),
                           can_resend="intake_reference" in session,
                           **link_lifetime(current_app.config["VERIFY_TTL_SECONDS"]))


@bp.post("/requests/resend")
def resend_from_session():
    form = ResendForm()
    if not form.validate():
        abort(400)
    reference = session.get("intake_reference")
    if reference:
        resend_verify_link(reference)
    return render_template("portal/resent.html"), 202


def resend_verify_link(reference):
    """Mail a fresh verify link if the request still waits for one; silent otherwise."""
    hit("resend")
    hit("resend", key=f"ref:{reference}")
    data_request = db.session.execute(
        db.select(DataRequest).where(DataRequest.reference == reference).with_for_update()
    ).scalar_one_or_none()
    if data_request is None or data_request.state != "pending_verification" \
            or has_expired(data_request):
        # An expired one (or one the hourly sweep is about to close): a link would be dead.
        db.session.rollback()
        return
    mail_id = send_verify_link(data_request)
    record(data_request, "subject", "verify_link_resent")
    db.session.commit()
    deliver_later([mail_id])


def _verify_payload(token):
    payload = read_link_token("verify", token, current_app.config["VERIFY_TTL_SECONDS"])
    if payload.nonce is None:
        raise LinkError("invalid")
    return payload


def by_reference(reference):
    return db.session.execute(
        db.select(DataRequest).where(DataRequest.reference == reference)
    ).scalar_one_or_none()


def request_expired_page():
    """What a verify link of an expired request shows: why, and what to do, not "not valid"
    (its link's nonce went with the purge)."""
    return render_template(
        "error.html", title=_("This request has expired"),
        message=ngettext(
            "This request was not confirmed within %(num)d day, so it was closed and what was "
            "typed in the form was deleted. If you still want it, please make a new request.",
            "This request was not confirmed within %(num)d days, so it was closed and what was "
            "typed in the form was deleted. If you still want it, please make a new request.",
            current_app.config["UNVERIFIED_EXPIRY_DAYS"])), 410


def _live_verify_payload(token):
    """The token's payload, or None when its request has expired unconfirmed."""
    try:
        payload = _verify_payload(token)
    except LinkError as exc:
        if exc.kind == "expired" and exc.reference and has_expired(by_reference(exc.reference)):
            return None
        raise
    return None if has_expired(by_reference(payload.reference)) else payload


@bp.get("/verify/<token>")
def verify(token):
    hit("verify")
    payload = _live_verify_payload(token)
    if payload is None:
        return request_expired_page()
    live = nonce_is_live("verify", payload.nonce)
    if live is None:
        raise LinkError("invalid")
    if live is False:
        raise LinkError("used", payload.reference)
    data_request = db.session.execute(
        db.select(DataRequest).where(DataRequest.id == live.request_id)
    ).scalar_one()
    if data_request.state != "pending_verification":
        raise LinkError("used", payload.reference)
    return render_template("portal/verify.html", form=ConfirmForm(), req=data_request)


@bp.post("/verify/<token>")
def verify_confirm(token):
    hit("verify")
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    payload = _live_verify_payload(token)
    if payload is None:
        return request_expired_page()
    data_request = db.session.execute(
        db.select(DataRequest).where(DataRequest.reference == payload.reference).with_for_update()
    ).scalar_one_or_none()
    if data_request is None:
        raise LinkError("invalid")
    if has_expired(data_request):  # the sweep closed it since the check above
        db.session.rollback()
        return request_expired_page()
    # The nonce and the state change commit together: a failure leaves the link usable.
    if data_request.state != "pending_verification" or not consume_nonce("verify", payload.nonce):
        db.session.rollback()
        raise LinkError("used", payload.reference)
    step_id = confirm_identity(data_request, "subject", "confirmed by email link")
    mail_id = send(data_request, "acknowledge", status_url=status_url(data_request))
    db.session.commit()
    start_after_commit([mail_id], step_id)
    return redirect(url_for("portal.status", token=make_link_token(
        "status", data_request.reference)), code=303)


@bp.post("/verify/<token>/resend")
def verify_resend(token):
    form = ResendForm()
    if not form.validate():
        abort(400)
    try:
        reference = _verify_payload(token).reference
    except LinkError as exc:
        # Only an expired (but genuinely signed) link may ask for a new one.
        if exc.kind != "expired" or not exc.reference:
            raise
        reference = exc.reference
    if has_expired(by_reference(reference)):
        return request_expired_page()
    resend_verify_link(reference)
    return render_template("portal/resent.html"), 202


def _status_request(token):
    hit("status")
    payload = read_link_token("status", token, current_app.config["STATUS_TTL_SECONDS"])
    data_request = db.session.execute(
        db.select(DataRequest).where(DataRequest.reference == payload.reference)
    ).scalar_one_or_none()
    if data_request is None:
        raise LinkError("invalid")
    return data_request


def progress(data_request):
    """Store steps done out of all, and bytes gathered: what the status page shows."""
    rows = db.session.execute(
        db.select(Step.state, Step.bytes).where(Step.request_id == data_request.id,
                                                Step.phase == "store")
    ).all()
    return {"done": sum(1 for state, _ in rows if state == "done"), "total": len(rows),
            "waiting": sum(1 for state, _ in rows if state == "waiting"),
            "bytes": sum(size for _, size in rows)}


@bp.get("/status/<token>")
def status(token):
    data_request = _status_request(token)
    return render_template("portal/status.html", req=data_request, token=token,
                           form=CancelForm(), now=utcnow(), progress=progress(data_request))


# Why a closed request cannot be cancelled, in the person's words (the lifecycle's own message
# is English and written for developers).
CANNOT_CANCEL = {
    "completed": _l("This request is already completed, so it can no longer be cancelled."),
    "rejected": _l("This request was already declined, so there is nothing left to cancel."),
    "expired": _l("This request expired before it was confirmed, so there is nothing left to "
                  "cancel."),
}


@bp.post("/status/<token>/cancel")
def cancel(token):
    form = CancelForm()
    if not form.validate():
        abort(400)
    data_request = lock(_status_request(token).id)
    if data_request.state == "cancelled":
        # Pressed twice, or in a second tab: the request already is what the person asked for.
        db.session.rollback()
        return redirect(url_for("portal.status", token=token), code=303)
    try:
        transition(data_request, "cancelled", "subject", reason="cancelled by the person")
    except TransitionError:
        db.session.rollback()
        error = CANNOT_CANCEL.get(data_request.state,
                                  _l("This request is closed, so it can no longer be cancelled."))
        return render_template("portal/status.html", req=data_request, token=token,
                               form=CancelForm(), now=utcnow(), error=error,
                               progress=progress(data_request)), 409
    mail_id = send(data_request, "cancelled", status_url=status_url(data_request))
    db.session.commit()
    deliver_later([mail_id])
    return redirect(url_for("portal.status", token=token), code=303)
