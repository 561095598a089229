"""The JSON API (OpenDSR where it applies): create, read, list and cancel requests.

Views check the key and the body, then use the same intake and lifecycle functions as the
portal; they never touch a company store. Every response is signed (X-OpenDSR-Signature over
the exact body bytes) so a controller can prove what we told it.
"""
import base64
import json
import logging
import re
from datetime import timedelta

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError

from .. import errors as page_errors
from ..extensions import csrf, db
from ..intake import confirm_identity, open_request, send_verify_link, start_after_commit
from ..lifecycle import TransitionError, transition, unconfirmed_window
from ..models import DataRequest, utcnow
from . import openapi
from .auth import actor, require_scope, scopes_of
from .cli import api_key_cli
from .errors import ApiError, error_response, for_api_paths, init_blueprint
from .opendsr import (
    API_VERSION,
    REGION_BY_REGULATION,
    SUBJECT_REQUEST_TYPE_BY_TYPE,
    SUPPORTED_IDENTITIES,
    opendsr_status,
    processor_domain,
    rfc3339,
)
from .schemas import MAX_SUBMISSION_AGE, parse_json_object, read_submission, subject_request_id
from .signing import SigningUnavailable, certificate_pem, signature_headers

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
init_blueprint(bp)
MAX_PER_PAGE = 100
_DIGITS = re.compile(r"[0-9]{1,6}")


def signed_json(payload, status=200):
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    response = Response(body, status=status, mimetype="application/json")
    response.headers.update(signature_headers(body))
    response.headers["Cache-Control"] = "no-store"
    return response


def status_payload(data_request):
    """OpenDSR status (section 8.3) plus what a controller needs to match our records."""
    return {
        "controller_id": g.api_key.name,
        "subject_request_id": data_request.subject_request_id,
        "subject_request_type": SUBJECT_REQUEST_TYPE_BY_TYPE[data_request.request_type],
        "request_status": opendsr_status(data_request.state),
        "expected_completion_time": rfc3339(data_request.due_at),
        "submitted_time": rfc3339(data_request.received_at),
        "api_version": API_VERSION,
    }


def own_request(srid, lock_row=False):
    """The caller's own request by subject_request_id; anyone else's is simply not found."""
    canonical = subject_request_id(srid)
    if canonical is None:
        raise ApiError(404, "not_found", "No request with this subject_request_id.")
    query = db.select(DataRequest).where(DataRequest.api_key_id == g.api_key.id,
                                         DataRequest.subject_request_id == canonical)
    if lock_row:
        query = query.with_for_update()
    data_request = db.session.execute(query).scalar_one_or_none()
    if data_request is None:
        raise ApiError(404, "not_found", "No request with this subject_request_id.")
    return data_request


def request_body():
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    return parse_json_object(request.get_data())


def max_age(vouched):
    """How old submitted_time may be. A request the person must still confirm has to leave
    them the confirmation window (unconfirmed requests expire counted from receipt)."""
    if vouched:
        return MAX_SUBMISSION_AGE
    window = unconfirmed_window() - timedelta(seconds=current_app.config["VERIFY_TTL_SECONDS"])
    return min(MAX_SUBMISSION_AGE, max(window, timedelta(0)))


def duplicate_request():
    return ApiError(409, "duplicate_request", "This key already submitted a request with this "
                    "subject_request_id.", "subject_request_id")


@bp.post("/requests")
@require_scope("submit")
def create_request():
    api_key = g.api_key
    vouched = "vouch" in scopes_of(api_key)
    now = utcnow()
    submission = read_submission(
        request_body(), now=now, domain=processor_domain(),
        allowed_hosts=current_app.config["OPENDSR_CALLBACK_HOSTS"], max_age=max_age(vouched))
    if db.session.execute(db.select(DataRequest.id).where(
            DataRequest.api_key_id == api_key.id,
            DataRequest.subject_request_id == submission.subject_request_id)).first():
        raise duplicate_request()
    try:
        # The clock runs from when the person asked, not from when the caller got round to us.
        data_request = open_request(DataRequest(
            request_type=submission.request_type, region=submission.region,
            email=submission.email, name=submission.name, details=submission.details,
            corrections=submission.corrections, received_at=submission.submitted_at,
            api_key_id=api_key.id, subject_request_id=submission.subject_request_id,
            status_callback_urls=submission.status_callback_urls or None,
        ), actor(api_key), reason="created through the API"
           + ("; the caller vouched for the person's identity" if vouched
              else "; the person confirms by email"))
    except IntegrityError as exc:
        # Two identical submissions raced past the check above: open_request flushes, so the
        # unique (key, subject_request_id) decides here, before anything else is written.
        db.session.rollback()
        raise duplicate_request() from exc
    mail_ids, step_id = [], None
    if vouched:
        step_id = confirm_identity(
            data_request, actor(api_key),
            "identity vouched for by the API caller (key with the vouch scope), "
            "verified as of submitted_time", verified_at=submission.submitted_at)
    else:
        mail_ids.append(send_verify_link(data_request))
    db.session.commit()
    start_after_commit(mail_ids, step_id)
    return signed_json({
        "controller_id": api_key.name,
        "subject_request_id": data_request.subject_request_id,
        "request_status": opendsr_status(data_request.state),
        "expected_completion_time": rfc3339(data_request.due_at),
        "received_time": rfc3339(now),
        "encoded_request": base64.b64encode(request.get_data()).decode(),
        "api_version": API_VERSION,
    }, 201)


@bp.get("/requests/<srid>")
@require_scope("read")
def get_request(srid):
    return signed_json(status_payload(own_request(srid)))


@bp.get("/requests")
@require_scope("read")
def list_requests():
    page = _positive_int("page", 1)
    per_page = min(_positive_int("per_page", 50), MAX_PER_PAGE)
    mine = DataRequest.api_key_id == g.api_key.id
    total = db.session.execute(db.select(db.func.count(DataRequest.id)).where(mine)).scalar_one()
    rows = db.session.execute(
        db.select(DataRequest).where(mine).order_by(DataRequest.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    return signed_json({
        "requests": [status_payload(row) for row in rows],
        "page": page, "per_page": per_page, "total": total,
        "next_page": page + 1 if page * per_page < total else None,
    })


def _positive_int(name, default):
    raw = request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() and int() also take "²" or "٣", and int("²") fails.
    if not _DIGITS.fullmatch(raw) or not 0 < int(raw) <= 100000:
        raise ApiError(400, "invalid_parameter", f"{name} must be a positive integer.", name)
    return int(raw)


@bp.delete("/requests/<srid>")
@require_scope("submit")
def cancel_request(srid):
    data_request = own_request(srid, lock_row=True)
    # OpenDSR lets a controller cancel only while the request is pending.
    if opendsr_status(data_request.state) != "pending":
        db.session.rollback()
        raise ApiError(409, "not_cancellable", "Only a pending request can be cancelled.")
    try:
        transition(data_request, "cancelled", actor(g.api_key),
                   reason="cancelled by the API caller")
    except TransitionError as exc:
        db.session.rollback()
        raise ApiError(409, "not_cancellable", str(exc)) from exc
    db.session.commit()
    return signed_json({
        "controller_id": g.api_key.name,
        "subject_request_id": data_request.subject_request_id,
        "received_time": rfc3339(utcnow()),
        "request_status": "cancelled",
        "api_version": API_VERSION,
    }, 202)


@bp.get("/discovery")
def discovery():
    base = current_app.config["BASE_URL"]
    return signed_json({
        "api_version": API_VERSION,
        "api_versions": [API_VERSION],
        "supported_identities": SUPPORTED_IDENTITIES,
        "supported_subject_request_types": ["access", "portability", "erasure"],
        "supported_regulations": sorted(REGION_BY_REGULATION),
        "processor_certificate": base + "/api/v1/certificate.pem",
        "processor_domain": processor_domain(),
        # Our one extension: corrections, in extensions[<processor_domain>].corrections.
        "extensions": {processor_domain(): {"subject_request_types": ["correction"]}},
    })


@bp.get("/certificate.pem")
def certificate():
    return Response(certificate_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/openapi.json")
def openapi_document():
    response = Response(json.dumps(openapi.document(current_app.config["BASE_URL"])),
                        mimetype="application/json")
    return response


def signing_unavailable(exc):
    log.error("OpenDSR signing unavailable: %s", exc)
    return error_response(503, "signing_unavailable",
                          "The API is not configured to sign its responses yet.")


bp.register_error_handler(SigningUnavailable, signing_unavailable)


def init_app(app):
    """Register the API: blueprint, Bearer auth instead of CSRF, JSON errors, key commands."""
    # One bucket per key (and one per address for failed keys); an operator may set "api".
    app.config["RATE_LIMITS"].setdefault("api", (600, 600))
    app.register_blueprint(bp)
    # Bearer keys, not cookies, authenticate the API: no session for a forged form to ride on.
    csrf.exempt(bp)
    for code in (404, 405):
        app.register_error_handler(code, for_api_paths(page_errors.http_error))
    app.cli.add_command(api_key_cli)
