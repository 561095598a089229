"""The audit trail: append-only events, each carrying the hash of the one before.

`record` must run inside the transaction that makes the change it describes, with the request
row locked, so the event and the change commit or roll back together. `verify_chain` recomputes
every hash and says where a chain breaks.
"""
import hashlib
import json
from dataclasses import dataclass

from .extensions import db
from .models import AdminEvent, AuditEvent, DataRequest, utcnow

GENESIS = "0" * 64


def event_hash(request_id, seq, at, actor, action, from_state, to_state, reason, prev_hash):
    """SHA-256 over a canonical JSON of the event's fields and its predecessor's hash."""
    payload = json.dumps(
        [request_id, seq, at.isoformat(timespec="microseconds"), actor, action,
         from_state, to_state, reason, prev_hash],
        separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(data_request, actor, action, *, from_state=None, to_state=None, reason=None):
    """Append one event to the request's chain (caller holds the row and commits)."""
    if data_request.id is None:
        db.session.flush()
    seq = (data_request.audit_count or 0) + 1
    prev = data_request.audit_head or GENESIS
    # Python datetimes stop at microseconds, which SQLite and PostgreSQL both keep exactly.
    at = utcnow()
    digest = event_hash(data_request.id, seq, at, actor, action, from_state, to_state, reason, prev)
    event = AuditEvent(
        request_id=data_request.id, seq=seq, at=at, actor=actor, action=action,
        from_state=from_state, to_state=to_state, reason=reason, prev_hash=prev, hash=digest,
    )
    db.session.add(event)
    data_request.audit_head = digest
    data_request.audit_count = seq
    return event


@dataclass
class ChainReport:
    reference: str
    events: int
    ok: bool
    problem: str | None = None


def first_break(events, recompute, label="event"):
    """Walk a chain in seq order: (the first problem or None, events that fit, last hash).

    Both chains — each request's and the admin chain — are checked by this one walk; they
    differ only in what their hash covers (`recompute`).
    """
    prev, fitting = GENESIS, 0
    for expected_seq, event in enumerate(events, start=1):
        where = f"{label} #{event.seq} ({event.action} at {event.at.isoformat()})"
        if event.seq != expected_seq:
            return f"{label} #{expected_seq} is missing (found #{event.seq} next)", fitting, prev
        if event.prev_hash != prev:
            return f"{where} does not point at the event before it", fitting, prev
        if recompute(event) != event.hash:
            return f"{where} was altered after it was written", fitting, prev
        prev, fitting = event.hash, expected_seq
    return None, fitting, prev


def _request_event_hash(event):
    return event_hash(event.request_id, event.seq, event.at, event.actor, event.action,
                      event.from_state, event.to_state, event.reason, event.prev_hash)


def verify_chain(data_request):
    """Recompute the chain of one request; report the first event that does not fit."""
    events = (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.request_id == data_request.id)
            .order_by(AuditEvent.seq)
        ).scalars().all()
    )
    problem, _, prev = first_break(events, _request_event_hash)
    if problem:
        return ChainReport(data_request.reference, len(events), False, problem)
    head = data_request.audit_head or GENESIS
    if len(events) != (data_request.audit_count or 0) or prev != head:
        return ChainReport(data_request.reference, len(events), False,
                           "the newest events are missing: the chain ends before the request's "
                           f"recorded head (expected {data_request.audit_count} events)")
    return ChainReport(data_request.reference, len(events), True)


def verify_all(batch=500):
    """Yield a report for every request, reading in batches to keep memory flat."""
    last_id = 0
    while True:
        rows = db.session.execute(
            db.select(DataRequest).where(DataRequest.id > last_id)
            .order_by(DataRequest.id).limit(batch)
        ).scalars().all()
        if not rows:
            return
        for data_request in rows:
            yield verify_chain(data_request)
        last_id = rows[-1].id
        db.session.expunge_all()


def admin_event_hash(seq, at, actor, action, target, detail, prev_hash):
    payload = json.dumps([seq, at.isoformat(timespec="microseconds"), actor, action, target,
                          detail, prev_hash], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def record_admin(actor, action, target, detail=None):
    """Append a staff/API-key change to the installation's admin chain, in the caller's
    transaction. A concurrent append takes the same seq and fails the unique constraint, so
    the later transaction rolls back (the caller says "try again") instead of forking the chain.
    """
    last = db.session.execute(
        db.select(AdminEvent.seq, AdminEvent.hash).order_by(AdminEvent.seq.desc()).limit(1)
    ).one_or_none()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utcnow()
    event = AdminEvent(seq=seq, at=at, actor=actor, action=action, target=target, detail=detail,
                       prev_hash=prev,
                       hash=admin_event_hash(seq, at, actor, action, target, detail, prev))
    db.session.add(event)
    return event


def _admin_events(batch):
    """The admin chain in seq order, read in batches to keep memory flat."""
    last_seq = 0
    while True:
        events = db.session.execute(
            db.select(AdminEvent).where(AdminEvent.seq > last_seq).order_by(AdminEvent.seq)
            .limit(batch)
        ).scalars().all()
        if not events:
            return
        yield from events
        last_seq = events[-1].seq
        db.session.expunge_all()


def _admin_event_hash(event):
    return admin_event_hash(event.seq, event.at, event.actor, event.action, event.target,
                            event.detail, event.prev_hash)


def verify_admin_chain(batch=1000):
    """Recompute the admin chain; a ChainReport for it (reference "admin")."""
    problem, fitting, _ = first_break(_admin_events(batch), _admin_event_hash, "admin event")
    return ChainReport("admin", fitting, problem is None, problem)
