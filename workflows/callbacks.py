"""OpenDSR status callbacks as an RQ job: claim the row, POST the signed body, record the outcome.

The Callback row is written in the transaction of the state change (lifecycle.transition), so
a change is never blocked by a controller's server: delivery happens here, later. A failure
raises so RQ retries with back-off (OPENDSR_CALLBACK_RETRY_INTERVALS); the reconciler revives
rows whose job vanished; after OPENDSR_CALLBACK_MAX_ATTEMPTS the row is marked failed, and at
once if its URL cannot be sent or its host is no longer allowed.
Each body carries the request's current status, so the last callback to arrive is never older
than one before it. At-least-once: a worker killed after POSTing sends again, and a later row
may repeat a status already sent, which a controller must tolerate anyway (OpenDSR 8.5).
"""
import http.client
import json
import logging
from urllib.parse import urlsplit

from flask import current_app

from app.api.opendsr import callback_body, opendsr_status
from app.api.schemas import callback_url
from app.api.signing import signature_headers
from app.extensions import db
from app.models import ApiKey, Callback, DataRequest, utcnow

from .context import job

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


class CallbackRefused(Exception):
    """The controller answered, but not with a 2xx (a redirect counts: it is not followed, as
    it could lead the signed body to a host nobody allowed)."""

    def __init__(self, status):
        super().__init__(status)
        self.code = status


class CallbackFailed(Exception):
    """An attempt failed; RQ retries it. Carries only what `_describe` keeps."""


def _claim(callback_id):
    claimed = db.session.execute(
        db.update(Callback)
        .where(Callback.id == callback_id, Callback.state == "queued")
        .values(state="sending", attempts=Callback.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def post_signed(url, body):
    """POST `body` (bytes) with the OpenDSR signature headers; raise unless the answer is 2xx."""
    headers = {"Content-Type": "application/json", "User-Agent": "dsr-portal-callbacks"}
    headers.update(signature_headers(body))
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise CallbackRefused(response.status)
    return response.status


def _describe(exc):
    """Class and HTTP status only: the URL and response text stay out of the database and logs."""
    code = getattr(exc, "code", None)
    return type(exc).__name__ + (f" (HTTP {code})" if isinstance(code, int) else "")


def _unsendable(url):
    """Why this stored URL must not be sent now, or None. The allow-list is read again here:
    an operator may have set or narrowed OPENDSR_CALLBACK_HOSTS since the request came in."""
    if not callback_url(url, ()):
        return "URL cannot be sent"
    if not callback_url(url, current_app.config["OPENDSR_CALLBACK_HOSTS"]):
        return "host not allowed"
    return None


def _give_up(callback, reason):
    callback.state, callback.last_error = "failed", reason
    db.session.commit()
    log.error("callback %s given up after %s attempt(s): %s", callback.id, callback.attempts,
              reason)
    return "failed"


@job
def deliver_callback(callback_id):
    """Deliver one queued callback; raise on a transient failure so RQ retries with back-off.

    The body carries the request's status now, not the status of the change that queued the
    row: rows are retried independently, so a retry of an older change may go out after a newer
    one, and it must not leave the controller believing the older status."""
    if not _claim(callback_id):
        return "not queued"
    callback = db.session.get(Callback, callback_id)
    refusal = _unsendable(callback.url)
    if refusal:
        return _give_up(callback, refusal)
    try:
        data_request = db.session.get(DataRequest, callback.request_id)
        api_key = db.session.get(ApiKey, data_request.api_key_id)
        callback.status = opendsr_status(data_request.state)
        body = json.dumps(callback_body(data_request, api_key, callback),
                          separators=(",", ":")).encode()
        post_signed(callback.url, body)
    except Exception as exc:  # any failure is an attempt; else the row stays `sending` for ever
        db.session.rollback()  # a database error may have left the session unusable
        callback.last_error = _describe(exc)
        if callback.attempts >= current_app.config["OPENDSR_CALLBACK_MAX_ATTEMPTS"]:
            return _give_up(callback, callback.last_error)
        callback.state = "queued"
        db.session.commit()
        # RQ logs what is raised: the class and status only, not a message that may hold the URL.
        raise CallbackFailed(callback.last_error) from None
    callback.state, callback.sent_at, callback.last_error = "sent", utcnow(), None
    db.session.commit()
    return "sent"


def callbacks_to_revive():
    """Rows that should be in flight: queued ones, and `sending` ones (their worker may have
    died; the reconciler checks the job's heartbeat before touching them)."""
    return db.session.execute(
        db.select(Callback).where(Callback.state.in_(["queued", "sending"]))
        .order_by(Callback.id)
    ).scalars().all()
