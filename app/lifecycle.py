"""The request lifecycle: which state may follow which, and the bookkeeping of each change.

Every change goes through `transition`, which checks the move, sets the timestamps the database
constraints expect, and writes the audit event in the same transaction.
"""
from datetime import timedelta

from flask import current_app

from . import deadlines
from .api.opendsr import queue_status_callbacks
from .audit import record
from .extensions import db
from .models import CLOSED_STATES, DataRequest, Step, utcnow

TRANSITIONS = {
    "pending_verification": {"verified", "expired", "cancelled"},
    "verified": {"in_progress", "rejected", "cancelled"},
    "in_progress": {"completed", "needs_attention", "cancelled"},
    "needs_attention": {"in_progress", "cancelled"},
}


class TransitionError(Exception):
    """A move the lifecycle does not allow (for example cancelling a completed request)."""


def can_move(state, new_state):
    return new_state in TRANSITIONS.get(state, set())


def lock(request_id):
    """Load a request with its row locked (SELECT ... FOR UPDATE where the database has it)."""
    return db.session.execute(
        db.select(DataRequest).where(DataRequest.id == request_id).with_for_update()
    ).scalar_one_or_none()


def transition(data_request, new_state, actor, reason=None, action=None):
    """Move a locked request to `new_state` and append the audit event; the caller commits."""
    old = data_request.state
    if not can_move(old, new_state):
        raise TransitionError(f"a request that is {old.replace('_', ' ')} cannot become "
                              f"{new_state.replace('_', ' ')}")
    now = utcnow()
    if new_state == "verified":
        data_request.verified_at = now
        data_request.due_at = deadlines.due_at(
            data_request.regime, data_request.received_at, now, current_app.config["PROMISE_DAYS"],
            data_request.timezone)
    if new_state in CLOSED_STATES:
        data_request.closed_at = now
        data_request.close_reason = reason
    data_request.state = new_state
    # The OpenDSR callbacks this change causes commit (or roll back) with the change itself.
    queue_status_callbacks(data_request, old, new_state)
    return record(data_request, actor, action or new_state, from_state=old, to_state=new_state,
                  reason=reason)


def unconfirmed_window():
    """How long a request may stay unconfirmed, counted from receipt (UNVERIFIED_EXPIRY_DAYS)."""
    return timedelta(days=current_app.config["UNVERIFIED_EXPIRY_DAYS"])


def unconfirmed_expiry(data_request):
    """The moment an unconfirmed request expires: from then on (that moment included) the
    pages refuse it, its verify link is dead and the hourly sweep closes and purges it."""
    return data_request.received_at + unconfirmed_window()


def unconfirmed_cutoff(now):
    """Unconfirmed requests received at or before this moment have expired: the sweep's
    `received_at <= cutoff` is `unconfirmed_expiry(...) <= now`, the same boundary."""
    return now - unconfirmed_window()


def has_expired(data_request, now=None):
    """Closed unconfirmed, or unconfirmed past its expiry (the sweep may not have run yet)."""
    return data_request is not None and (
        data_request.state == "expired"
        or (data_request.state == "pending_verification"
            and unconfirmed_expiry(data_request) <= (now or utcnow())))


def begin_workflow(data_request, actor, reason):
    """Start the work on a locked, verified request: in_progress plus its first step row.

    Returns the step id to enqueue once the caller has committed.
    """
    if data_request.state != "verified":
        # needs_attention -> in_progress is a retry: its steps exist, a second start would
        # collide with them (a stale page's "Approve" button, or the CLI).
        raise TransitionError(f"a request that is {data_request.state.replace('_', ' ')} "
                              "cannot be started: only a confirmed request awaiting approval "
                              "can (one needing attention is retried)")
    transition(data_request, "in_progress", actor, reason=reason, action="started")
    step = Step(request_id=data_request.id, phase="discover", store="")
    db.session.add(step)
    db.session.flush()
    return step.id
