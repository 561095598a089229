"""The portal's own records: data requests, their audit trail, link nonces and outgoing mail.

State lives here and is guarded by the database: CHECK constraints refuse an unknown state or
type, and refuse timestamps that contradict the state (a verified request must have verified_at,
a closed one closed_at). Python checks the same rules first to give a clear message; the
database makes sure no code path can skip them.
"""
import secrets
from datetime import datetime, timezone

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.types import DateTime, TypeDecorator

from .extensions import db

REQUEST_TYPES = ("access", "export", "correction", "deletion")
REGIONS = ("eu", "california", "us_other", "japan", "other")
REGIMES = ("gdpr", "ccpa", "us_state", "appi", "company")
STATES = (
    "pending_verification", "verified", "in_progress", "needs_attention",
    "completed", "rejected", "expired", "cancelled",
)
OPEN_STATES = ("pending_verification", "verified", "in_progress", "needs_attention")
CLOSED_STATES = ("completed", "rejected", "expired", "cancelled")
VERIFIED_STATES = ("verified", "in_progress", "needs_attention", "completed")
LINK_PURPOSES = ("verify",)
MAIL_STATES = ("queued", "sending", "sent", "failed")


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no zone, PostgreSQL would convert."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join("'%s'" % v for v in values))


# Crockford base32 without look-alikes (no I, L, O, U): references are read out over the phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference():
    body = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"DSR-{body[:4]}-{body[4:]}"


class DataRequest(db.Model):
    __tablename__ = "data_requests"

    id = db.Column(db.Integer, primary_key=True)
    reference = db.Column(db.String(16), nullable=False, unique=True, default=new_reference)
    request_type = db.Column(db.String(16), nullable=False)
    state = db.Column(db.String(24), nullable=False, default="pending_verification")
    region = db.Column(db.String(16), nullable=False)
    regime = db.Column(db.String(16), nullable=False)
    # Personal data: purged on expiry, minimised (email -> keyed hash) after completion.
    email = db.Column(db.String(254))
    email_hash = db.Column(db.String(64), index=True)
    name = db.Column(db.String(200))
    details = db.Column(db.Text)
    corrections = db.Column(db.JSON)
    timezone = db.Column(db.String(64), nullable=False, default="UTC")
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    verified_at = db.Column(UTCDateTime)
    due_at = db.Column(UTCDateTime)
    closed_at = db.Column(UTCDateTime)
    purged_at = db.Column(UTCDateTime)
    close_reason = db.Column(db.Text)
    # Hash of the newest audit event: deleting the tail of the chain is detectable too.
    audit_head = db.Column(db.String(64))
    audit_count = db.Column(db.Integer, nullable=False, default=0)

    events = db.relationship(
        "AuditEvent", back_populates="request", order_by="AuditEvent.seq", lazy="select"
    )

    __table_args__ = (
        CheckConstraint(_in("request_type", REQUEST_TYPES), name="request_type"),
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint(_in("region", REGIONS), name="region"),
        CheckConstraint(_in("regime", REGIMES), name="regime"),
        CheckConstraint(
            f"NOT ({_in('state', VERIFIED_STATES)}) OR verified_at IS NOT NULL",
            name="verified_has_time",
        ),
        CheckConstraint(
            f"NOT ({_in('state', CLOSED_STATES)}) OR closed_at IS NOT NULL",
            name="closed_has_time",
        ),
        CheckConstraint(
            "state <> 'pending_verification' OR (verified_at IS NULL AND closed_at IS NULL)",
            name="pending_is_unverified",
        ),
        # An open request always has someone to answer: its email is only gone once closed.
        CheckConstraint(
            f"NOT ({_in('state', OPEN_STATES)}) OR email IS NOT NULL", name="open_has_email"
        ),
        Index("ix_data_requests_state_due", "state", "due_at"),
        Index("ix_data_requests_received", "received_at"),
    )

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    def __repr__(self):
        return f"<DataRequest {self.reference} {self.request_type} {self.state}>"


class AuditEvent(db.Model):
    """One line of a request's audit trail: append-only, carrying its predecessor's hash."""

    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    actor = db.Column(db.String(254), nullable=False)
    action = db.Column(db.String(64), nullable=False)
    from_state = db.Column(db.String(24))
    to_state = db.Column(db.String(24))
    reason = db.Column(db.Text)
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)

    request = db.relationship("DataRequest", back_populates="events")

    __table_args__ = (
        # Two writers appending at once cannot both take the same place in the chain.
        UniqueConstraint("request_id", "seq", name="uq_audit_events_request_seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )


class LinkNonce(db.Model):
    """The server half of a single-use link: only its SHA-256 is stored, consumed atomically."""

    __tablename__ = "link_nonces"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), nullable=False,
                           index=True)
    purpose = db.Column(db.String(16), nullable=False)
    nonce_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)

    __table_args__ = (CheckConstraint(_in("purpose", LINK_PURPOSES), name="purpose"),)


class MailMessage(db.Model):
    """An email as written in the same transaction as the change that caused it.

    Delivery happens later (RQ); a failure is recorded here and retried, so a mail outage never
    loses a request or its messages. The body is cleared once sent: it carries links.
    """

    __tablename__ = "mail_messages"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), index=True)
    kind = db.Column(db.String(32), nullable=False)
    to_addr = db.Column(db.String(254))
    subject = db.Column(db.String(200), nullable=False)
    body_text = db.Column(db.Text)
    body_html = db.Column(db.Text)
    state = db.Column(db.String(16), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = db.Column(UTCDateTime)
    sent_at = db.Column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("state", MAIL_STATES), name="state"),
        CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        Index("ix_mail_messages_state", "state", "created_at"),
    )
