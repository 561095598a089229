"""SLA automation: reminders before a request is due, daily overdue escalation, a daily digest.

Run by the RQ cron (hourly) and by `flask --app wsgi sla sweep`. Each reminder goes out once
however many sweeps run, overlap or die midway: the Reminder row is inserted first and its unique
key (request, kind, period) lets exactly one sweep win; the losers get an IntegrityError and skip.
The row and its mail rows commit together, and delivery is enqueued only after the commit, so a
sweep that dies leaves either nothing or queued mail that the reconciler delivers.
"""
import logging
from collections import Counter
from datetime import datetime, timedelta, timezone

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.deadlines import calendar_days_left
from app.extensions import db
from app.mail import SUBJECTS, deliver_later
from app.models import DataRequest, MailMessage, Reminder, StaffUser, utcnow

from .context import job

log = logging.getLogger(__name__)
# Tightest first: a request 2 days from due gets the 3-day reminder, not the 7-day one as well.
THRESHOLDS = ((1, "due_1"), (3, "due_3"), (7, "due_7"))
WATCHED = ("verified", "in_progress", "needs_attention")  # confirmed and still ours to answer
DIGEST_LOCK = 0x44535244  # "DSRD": PostgreSQL advisory lock key for the digest slot
BATCH = 500


def reminder_kind(due_at, now):
    """Which before-due reminder applies now, or None (not yet within 7 days, or overdue)."""
    if due_at is None or due_at <= now:
        return None
    for days, kind in THRESHOLDS:
        if due_at - now <= timedelta(days=days):
            return kind
    return None


def staff_mail(to_addr, kind, subject_ref, request_id=None, **context):
    """A MailMessage for a staff member (queue_mail only writes to the request's person)."""
    context.setdefault("company", current_app.config["COMPANY_NAME"])
    context.setdefault("contact", current_app.config["COMPANY_CONTACT"])
    context.setdefault("base_url", current_app.config["BASE_URL"])
    # The console is in English; a sweep has no browser whose language it could follow.
    with force_locale("en"):
        message = MailMessage(
            request_id=request_id, kind=kind, to_addr=to_addr,
            subject=str(SUBJECTS[kind]).format(reference=subject_ref),
            body_text=render_template(f"mail/{kind}.txt", **context),
            body_html=render_template(f"mail/{kind}.html", **context),
        )
    db.session.add(message)
    return message


def active_staff(role=None):
    query = db.select(StaffUser.id, StaffUser.email, StaffUser.role).where(
        StaffUser.active.is_(True)).order_by(StaffUser.id)
    if role:
        query = query.where(StaffUser.role == role)
    return db.session.execute(query).all()


def reminder_recipients(assignee_id):
    """The assignee; when nobody is, every active agent (or the admins if there are none)."""
    everyone = active_staff()
    if assignee_id is not None:
        mine = [s.email for s in everyone if s.id == assignee_id]
        if mine:
            return mine
    agents = [s.email for s in everyone if s.role == "agent"]
    return agents or [s.email for s in everyone if s.role == "admin"]


def send_once(request_id, kind, period, write_mails):
    """Insert the Reminder, write its mails, commit; [] when another sweep already sent it."""
    db.session.add(Reminder(request_id=request_id, kind=kind, period=period))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return []
    messages = write_mails()
    db.session.flush()
    ids = [m.id for m in messages]
    db.session.commit()
    deliver_later(ids)
    return ids


def already_sent(request_ids, kinds):
    """(request_id, kind, period) already recorded: skips most losers without an insert."""
    sent = set()
    for start in range(0, len(request_ids), BATCH):
        chunk = request_ids[start:start + BATCH]
        sent.update(db.session.execute(
            db.select(Reminder.request_id, Reminder.kind, Reminder.period)
            .where(Reminder.request_id.in_(chunk), Reminder.kind.in_(kinds))).all())
    db.session.commit()  # end the read: SQLite must not hold a shared lock into the inserts
    return sent


def watched(*conditions):
    """Confirmed open requests matching `conditions`, one indexed query per state.

    `state IN (...)` with a due-date range would walk ix_data_requests_due_id through years of
    closed history; `state = ?` walks ix_data_requests_state_due over open work only.
    """
    rows = []
    for state in WATCHED:
        rows += db.session.execute(
            db.select(DataRequest.id, DataRequest.reference, DataRequest.request_type,
                      DataRequest.state, DataRequest.due_at, DataRequest.assignee_id)
            .where(DataRequest.state == state, *conditions)).all()
    return sorted(rows, key=lambda row: row.due_at)


def count_watched(*conditions):
    return sum(db.session.scalar(db.select(db.func.count()).select_from(DataRequest).where(
        DataRequest.state == state, *conditions)) for state in WATCHED)


def remind_due(now, counts):
    rows = watched(DataRequest.due_at > now, DataRequest.due_at <= now + timedelta(days=7))
    sent = already_sent([r.id for r in rows], [kind for _, kind in THRESHOLDS])
    for row in rows:
        kind, period = reminder_kind(row.due_at, now), row.due_at.date().isoformat()
        if kind is None or (row.id, kind, period) in sent:
            continue
        days = calendar_days_left(row.due_at, now)  # as the staff badge counts them

        def write(row=row, kind=kind, days=days):
            return [staff_mail(addr, "reminder", row.reference, row.id, row=row, days=days)
                    for addr in reminder_recipients(row.assignee_id)]
        counts[kind] += bool(send_once(row.id, kind, period, write))


def escalate_overdue(now, counts):
    rows = watched(DataRequest.due_at <= now)
    today = now.date().isoformat()
    sent = already_sent([r.id for r in rows], ["overdue"])
    for row in rows:
        if (row.id, "overdue", today) in sent:
            continue
        late = -calendar_days_left(row.due_at, now)  # 0: was due earlier today, as the badge says

        def write(row=row, late=late):
            return [staff_mail(s.email, "escalation", row.reference, row.id, row=row, late=late)
                    for s in active_staff("admin")]
        counts["overdue"] += bool(send_once(row.id, "overdue", today, write))


def lock_digest_slot():
    """Serialise digest senders (released at commit). The partial unique index
    uq_reminders_once_global already refuses a second digest row for the day; the lock only
    spares the loser from rendering every staff member's mail first."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DIGEST_LOCK})
    else:
        # Any write takes SQLite's single writer lock, even one that matches no row.
        db.session.execute(db.update(Reminder).where(Reminder.id == -1)
                           .values(kind=Reminder.kind).execution_options(
                               synchronize_session=False))


def digest_numbers(now):
    return {
        "open": count_watched(),
        "overdue": count_watched(DataRequest.due_at <= now),
        "due_soon": count_watched(DataRequest.due_at > now,
                                  DataRequest.due_at <= now + timedelta(days=7)),
        "unassigned": count_watched(DataRequest.assignee_id.is_(None)),
        "attention": count_watched(DataRequest.state == "needs_attention"),
        "awaiting_approval": count_watched(DataRequest.state == "verified"),
    }


def send_digest(now, counts):
    today = now.date().isoformat()
    lock_digest_slot()
    done = db.session.execute(db.select(Reminder.id).where(
        Reminder.request_id.is_(None), Reminder.kind == "digest", Reminder.period == today)
    ).first()
    if done:
        db.session.commit()
        return
    numbers = digest_numbers(now)

    def write():
        return [staff_mail(s.email, "digest", today, None, numbers=numbers, day=today)
                for s in active_staff()]
    counts["digest"] += bool(send_once(None, "digest", today, write))


@job
def sweep(now=None):
    """One pass: before-due reminders, overdue escalations, the day's digest. Idempotent."""
    now = datetime.fromisoformat(now) if isinstance(now, str) else (now or utcnow())
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)  # a bare time from the command line means UTC
    counts = Counter({"due_7": 0, "due_3": 0, "due_1": 0, "overdue": 0, "digest": 0})
    remind_due(now, counts)
    escalate_overdue(now, counts)
    send_digest(now, counts)
    if any(counts.values()):
        log.info("sla sweep sent %s", dict(counts))
    return dict(counts)
