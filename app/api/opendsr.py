"""OpenDSR vocabulary: our states and types in its words, and the callbacks a change causes.

Used by the API views, by `lifecycle.transition` (which calls `queue_status_callbacks` in the
transaction of every change) and by the callback delivery job. No Flask views here.
"""
import logging
from datetime import timezone
from urllib.parse import urlparse

from flask import current_app, has_app_context
from rq import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Callback
from ..queue import enqueue

log = logging.getLogger(__name__)

API_VERSION = "2.0"
DELIVER_CALLBACK = "workflows.callbacks.deliver_callback"

# OpenDSR's request status for each of our states (SPEC, "API").
STATUS_BY_STATE = {
    "pending_verification": "pending",
    "verified": "pending",
    "in_progress": "in_progress",
    "needs_attention": "in_progress",
    "completed": "completed",
    "rejected": "cancelled",
    "expired": "cancelled",
    "cancelled": "cancelled",
}
OPENDSR_STATUSES = ("pending", "in_progress", "completed", "cancelled")

# subject_request_type -> our request_type; "correction" is our extension.
TYPE_BY_SUBJECT_REQUEST_TYPE = {
    "access": "access",
    "portability": "export",
    "erasure": "deletion",
    "correction": "correction",
}
SUBJECT_REQUEST_TYPE_BY_TYPE = {v: k for k, v in TYPE_BY_SUBJECT_REQUEST_TYPE.items()}

# regulation -> the region whose regime (app.deadlines) governs the due date.
REGION_BY_REGULATION = {
    "gdpr": "eu",
    "uk_gdpr": "eu",
    "ccpa": "california",
    "cpra": "california",
    "us_state": "us_other",
    "appi": "japan",
}
SUPPORTED_IDENTITIES = [{"identity_type": "email", "identity_format": "raw"}]


def opendsr_status(state):
    return STATUS_BY_STATE[state]


def rfc3339(moment):
    """UTC, second precision, with a Z: the form every OpenDSR example uses."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def processor_domain(config=None):
    """The host of BASE_URL: the domain our signing certificate is for."""
    config = config or current_app.config
    return urlparse(config["BASE_URL"]).hostname or "localhost"


def callback_body(data_request, api_key, callback):
    """The OpenDSR callback body (section 8.6) for one Callback row."""
    return {
        "controller_id": api_key.name,
        "expected_completion_time": rfc3339(data_request.due_at),
        "status_callback_url": callback.url,
        "subject_request_id": data_request.subject_request_id,
        "request_status": callback.status,
        "api_version": API_VERSION,
    }


def queue_status_callbacks(data_request, old_state, new_state):
    """Add one Callback row per URL when the OpenDSR status changes; part of the caller's
    transaction, so a rolled-back change announces nothing. Jobs are enqueued after commit."""
    urls = data_request.status_callback_urls or []
    new_status = STATUS_BY_STATE[new_state]
    if not urls or STATUS_BY_STATE[old_state] == new_status:
        return []
    rows = [Callback(request_id=data_request.id, url=url, status=new_status) for url in urls]
    db.session.add_all(rows)
    db.session.flush()
    session = db.session()
    session.info.setdefault("dsr_callbacks", []).extend(row.id for row in rows)
    return rows


def callback_retry(config=None):
    intervals = (config or current_app.config)["OPENDSR_CALLBACK_RETRY_INTERVALS"]
    return Retry(max=len(intervals), interval=intervals)


def enqueue_callback(callback_id):
    return enqueue(DELIVER_CALLBACK, callback_id, job_id=f"callback-{callback_id}",
                   retry=callback_retry(), job_timeout=60)


# Every code path that changes a state commits on its own (pages, jobs, the CLI, the staff
# console). Enqueueing from the session's commit hook means none of them has to remember the
# callbacks; if Redis is down at that moment, the reconciler finds the queued rows later.
@event.listens_for(Session, "after_commit")
def _enqueue_committed_callbacks(session):
    ids = session.info.pop("dsr_callbacks", None)
    if not ids or not has_app_context():
        return
    for callback_id in ids:
        enqueue_callback(callback_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_callbacks(session):
    session.info.pop("dsr_callbacks", None)
