"""The portal's own records: data requests, their audit trail, link nonces and outgoing mail.

State lives here and is guarded by the database: CHECK constraints refuse an unknown state or
type, and refuse timestamps that contradict the state (a verified request must have verified_at,
a closed one closed_at). Python checks the same rules first to give a clear message; the
database makes sure no code path can skip them.
"""
import secrets

from sqlalchemy import CheckConstraint, Index, UniqueConstraint

from .columns import JSON, UTCDateTime, utcnow
from .extensions import db

REQUEST_TYPES = ("access", "export", "correction", "deletion")
REGIONS = ("eu", "california", "us_other", "japan", "other")
REGIMES = ("gdpr", "ccpa", "us_state", "appi", "company")
STATES = (
    "pending_verification", "verified", "in_progress", "needs_attention",
    "completed", "rejected", "expired", "cancelled",
)
OPEN_STATES = ("pending_verification", "verified", "in_progress", "needs_attention")
# Confirmed and its workflow has started: steps run, or wait for staff (a manual step is
# resolved only in these).
WORKFLOW_STATES = ("in_progress", "needs_attention")
CLOSED_STATES = ("completed", "rejected", "expired", "cancelled")
VERIFIED_STATES = ("verified", "in_progress", "needs_attention", "completed")
LINK_PURPOSES = ("verify",)
MAIL_STATES = ("queued", "sending", "sent", "failed")
STEP_PHASES = ("discover", "store", "assemble")
STEP_STATES = ("pending", "running", "waiting", "done", "failed")
DELIVERY_KINDS = ("archive", "certificate")
STAFF_ROLES = ("agent", "admin")
REMINDER_KINDS = ("due_7", "due_3", "due_1", "overdue", "digest")
API_SCOPES = ("submit", "read", "vouch")
CALLBACK_STATES = ("queued", "sending", "sent", "failed")


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join("'%s'" % v for v in values))


# Crockford base32 without look-alikes (no I, L, O, U): references are read out over the phone.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference():
    body = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(8))
    return f"DSR-{body[:4]}-{body[4:]}"


# The largest id an Integer primary key holds (a 32-bit integer in PostgreSQL): a larger number
# from a URL or a form must be "no such row", not an overflow in the database driver.
MAX_ROW_ID = 2**31 - 1


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
    corrections = db.Column(JSON)
    timezone = db.Column(db.String(64), nullable=False, default="UTC")
    # The language the person used on the form: their emails are written in it.
    locale = db.Column(db.String(8), nullable=False, default="en", server_default="en")
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    verified_at = db.Column(UTCDateTime)
    due_at = db.Column(UTCDateTime)
    closed_at = db.Column(UTCDateTime)
    purged_at = db.Column(UTCDateTime)
    close_reason = db.Column(db.Text)
    # Staff side: who handles it, and the one extension the regime allows.
    assignee_id = db.Column(db.Integer, db.ForeignKey("staff_users.id"), index=True)
    original_due_at = db.Column(UTCDateTime)  # set once, when the due date is extended
    extension_reason = db.Column(db.Text)
    # The deletion preview (counts per store) staff see before approving: a job fills it in,
    # because pages never query a company's store themselves.
    preview = db.Column(JSON)
    preview_at = db.Column(UTCDateTime)
    # API side (OpenDSR): who submitted it, their id for it, where to send status callbacks.
    api_key_id = db.Column(db.Integer, db.ForeignKey("api_keys.id"))
    subject_request_id = db.Column(db.String(64))
    status_callback_urls = db.Column(JSON)
    # Identities found across stores (email -> user_id ...), kept while the workflow runs:
    # after an erasure the email no longer leads to the user id, the re-scan still needs it.
    identities = db.Column(JSON)
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
        # A repeated OpenDSR subject_request_id from the same caller creates nothing (409).
        UniqueConstraint("api_key_id", "subject_request_id", name="uq_data_requests_api_subject"),
        CheckConstraint("(original_due_at IS NULL) = (extension_reason IS NULL)",
                        name="extension_has_reason"),
        Index("ix_data_requests_state_due", "state", "due_at"),
        # Staff search by address (open requests; closed ones are found by email_hash).
        Index("ix_data_requests_email", "email"),
        Index("ix_data_requests_due_id", "due_at", "id"),
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


class AdminEvent(db.Model):
    """A change to staff accounts or API keys: append-only, one hash chain for the installation.

    Data-request events chain per request; these have no request, so they chain in `seq` order.
    Actor and target are ids ("staff:3", "api_key:7", "cli"), never an email or a secret.
    """

    __tablename__ = "admin_events"

    id = db.Column(db.Integer, primary_key=True)
    seq = db.Column(db.Integer, nullable=False)
    at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    actor = db.Column(db.String(64), nullable=False)
    action = db.Column(db.String(64), nullable=False)
    target = db.Column(db.String(64), nullable=False)
    detail = db.Column(db.String(500))
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)

    __table_args__ = (
        # Two admins saving at once cannot both take the same place in the chain.
        UniqueConstraint("seq", name="uq_admin_events_seq"),
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
    # Or, for mail written on the intake path, what the body is rendered from at delivery
    # (plain JSON values): rendering belongs to the worker, not to the person's POST.
    context = db.Column(JSON)
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


class Step(db.Model):
    """One unit of a request's workflow: find identities, one store's part, or the assembly.

    The row, not the RQ job, is the truth: a job that vanished is re-enqueued from it, and a
    step that ran twice finds itself already done.
    """

    __tablename__ = "steps"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), nullable=False)
    phase = db.Column(db.String(16), nullable=False)
    store = db.Column(db.String(100), nullable=False, default="")  # "" for request-wide phases
    state = db.Column(db.String(16), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.Text)
    records = db.Column(db.Integer, nullable=False, default=0)
    files = db.Column(db.Integer, nullable=False, default=0)
    bytes = db.Column(db.BigInteger, nullable=False, default=0)
    result = db.Column(JSON)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    started_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("request_id", "phase", "store", name="uq_steps_request_phase_store"),
        CheckConstraint(_in("phase", STEP_PHASES), name="phase"),
        CheckConstraint(_in("state", STEP_STATES), name="state"),
        CheckConstraint("state <> 'done' OR finished_at IS NOT NULL", name="done_has_time"),
        CheckConstraint("attempts >= 0 AND records >= 0 AND files >= 0 AND bytes >= 0",
                        name="counts_not_negative"),
        Index("ix_steps_state", "state", "request_id"),
    )


class Delivery(db.Model):
    """A file the person downloads: the archive, or the deletion certificate.

    Downloads are counted by one conditional UPDATE, so the limit holds under parallel clicks.
    """

    __tablename__ = "deliveries"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    path = db.Column(db.String(500), nullable=False)  # its key in app.storage
    bytes = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    downloads = db.Column(db.Integer, nullable=False, default=0)
    max_downloads = db.Column(db.Integer, nullable=False)
    deleted_at = db.Column(UTCDateTime)
    # The archive's AES-256 passphrase, kept only until the person has seen it once: from then
    # on the file at rest can be opened by them alone.
    passphrase = db.Column(db.String(64))
    passphrase_shown_at = db.Column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("request_id", "kind", name="uq_deliveries_request_kind"),
        CheckConstraint(_in("kind", DELIVERY_KINDS), name="kind"),
        CheckConstraint("downloads >= 0 AND downloads <= max_downloads", name="download_limit"),
    )


class StaffUser(db.Model):
    """A support agent or admin of the console. Passwords hashed; lockout after failures."""

    __tablename__ = "staff_users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="agent")
    active = db.Column(db.Boolean, nullable=False, default=True)
    failed_logins = db.Column(db.Integer, nullable=False, default=0)
    locked_until = db.Column(UTCDateTime)
    totp_secret = db.Column(db.String(64))  # optional second factor (base32)
    # A secret offered on the account page, not yet confirmed with a code. Kept here, not in
    # the session: the session is a readable cookie, and this seed becomes the second factor.
    totp_pending_secret = db.Column(db.String(64))
    totp_pending_at = db.Column(UTCDateTime)
    # Bumped on password change or logout-everywhere: old sessions stop working.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
    )

    def is_locked(self, now):
        """Locked out for a while after too many failures: no password or code is checked."""
        return self.locked_until is not None and self.locked_until > now


class Reminder(db.Model):
    """An SLA reminder that was sent. The unique key is what makes each one go out once."""

    __tablename__ = "reminders"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"))
    kind = db.Column(db.String(16), nullable=False)
    # For daily kinds (overdue, digest) the day they cover; for due_N the due date they were for,
    # so an extension that moves the date earns fresh reminders.
    period = db.Column(db.String(10), nullable=False)
    sent_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("request_id", "kind", "period", name="uq_reminders_once"),
        # Request-wide reminders (the daily digest) have no request id, and NULLs never clash
        # in a unique key: this index makes "once a day" the database's promise too.
        Index("uq_reminders_once_global", "kind", "period", unique=True,
              sqlite_where=db.text("request_id IS NULL"),
              postgresql_where=db.text("request_id IS NULL")),
        CheckConstraint(_in("kind", REMINDER_KINDS), name="kind"),
    )


class ApiKey(db.Model):
    """A key for the JSON API: shown once, stored as a SHA-256, scoped, revocable."""

    __tablename__ = "api_keys"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    prefix = db.Column(db.String(16), nullable=False, unique=True)  # shown in lists, not secret
    key_hash = db.Column(db.String(64), nullable=False, unique=True)
    scopes = db.Column(db.String(100), nullable=False)  # comma-separated subset of API_SCOPES
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    created_by = db.Column(db.String(254))
    last_used_at = db.Column(UTCDateTime)
    revoked_at = db.Column(UTCDateTime)


class Callback(db.Model):
    """An OpenDSR status callback to deliver: written with the change, sent by a job."""

    __tablename__ = "callbacks"

    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("data_requests.id"), nullable=False,
                           index=True)
    url = db.Column(db.String(2000), nullable=False)
    status = db.Column(db.String(16), nullable=False)  # the OpenDSR status announced
    state = db.Column(db.String(16), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = db.Column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("state", CALLBACK_STATES), name="state"),
        Index("ix_callbacks_state", "state", "created_at"),
    )
