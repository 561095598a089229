"""Storage limitation for the portal's own records.

Unverified requests expire after UNVERIFIED_EXPIRY_DAYS and their personal data is purged.
Closed requests are minimised CLOSED_REQUEST_RETENTION_DAYS after they closed (deletions
already are, at completion): the email becomes a keyed hash, so staff can still find the record
when the person writes again, and the name, details, corrections and mail bodies go. In both
cases the request row and its audit trail stay (accountability: that a request arrived, what
was done and when).

Files: a download's whole <REFERENCE>/ folder goes when its window closes, and after a backup
of the storage is restored ``remove_restored_files`` deletes again what the backup brought back.
"""
from datetime import timedelta

from flask import current_app

from app.audit import record
from app.extensions import db
from app.lifecycle import lock, transition, unconfirmed_cutoff
from app.models import CLOSED_STATES, DataRequest, Delivery, LinkNonce, MailMessage, utcnow
from app.storage import storage
from app.tokens import email_hash

from .context import job
from .leftovers import (
    closed_with_files,
    open_download,
    remove_reference_folder,
    remove_request_files,
)


def minimise(data_request):
    """Keep what accountability needs (reference, type, dates, audit trail), not who asked:
    the email becomes its keyed hash (staff search still finds the record)."""
    if data_request.email is not None:
        data_request.email_hash = email_hash(data_request.email,
                                             current_app.config["SECRET_KEY"])
    forget_person(data_request)


def purge_personal_data(data_request):
    """An unconfirmed request keeps nothing of the person, not even the keyed hash (nobody
    showed the address was theirs), nor their links and mail."""
    forget_person(data_request)
    forget_links_and_mail(data_request)


def forget_person(data_request):
    """Clear what says who asked and what they wrote; both minimising and purging end here."""
    data_request.email = data_request.name = data_request.details = None
    data_request.corrections = data_request.identities = None
    # A preview (a scan of the stores) holds the person's current name and email.
    data_request.preview = data_request.preview_at = None
    data_request.purged_at = utcnow()


def forget_links_and_mail(data_request):
    db.session.execute(db.delete(LinkNonce).where(LinkNonce.request_id == data_request.id))
    db.session.execute(
        db.update(MailMessage).where(MailMessage.request_id == data_request.id)
        .values(to_addr=None, body_text=None, body_html=None, context=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        db.update(MailMessage)
        .where(MailMessage.request_id == data_request.id,
               MailMessage.state.in_(["queued", "sending"]))
        .values(state="failed", last_error="purged before delivery")
        .execution_options(synchronize_session=False)
    )


@job
def expire_unverified(now=None):
    """Expire and purge every request left unconfirmed too long; returns how many."""
    cutoff = unconfirmed_cutoff(now or utcnow())  # the boundary the pages use: has_expired
    ids = db.session.execute(
        db.select(DataRequest.id).where(DataRequest.state == "pending_verification",
                                        DataRequest.received_at <= cutoff)
    ).scalars().all()
    expired = 0
    for request_id in ids:
        # One transaction per request: a failure leaves the others done and this one untouched.
        data_request = lock(request_id)
        if data_request is None or data_request.state != "pending_verification":
            db.session.rollback()
            continue
        days = current_app.config["UNVERIFIED_EXPIRY_DAYS"]
        transition(data_request, "expired", "system",
                   reason=f"not confirmed within {days} days; personal data purged")
        purge_personal_data(data_request)
        db.session.commit()
        expired += 1
    return expired


@job
def purge_expired_deliveries(now=None):
    """Delete archives and certificates whose download window has closed; returns how many."""
    now = now or utcnow()
    ids = db.session.execute(
        db.select(Delivery.id).where(Delivery.deleted_at.is_(None), Delivery.expires_at <= now)
    ).scalars().all()
    deleted = 0
    for delivery_id in ids:
        delivery = db.session.get(Delivery, delivery_id)
        data_request = lock(delivery.request_id)
        # Re-read under the lock: an overlapping run may have deleted it since the list was made.
        db.session.refresh(delivery)
        if delivery.deleted_at is not None:
            db.session.rollback()
            continue
        remove_delivered(data_request, delivery)
        delivery.deleted_at = now
        record(data_request, "system", "delivery_deleted",
               reason=f"{delivery.kind} deleted when its download window closed")
        db.session.commit()
        deleted += 1
    return deleted


def remove_delivered(data_request, delivery):
    """The delivered file and, unless another download of the request is still open, its whole
    <REFERENCE>/ folder: a partial file a killed build or copy left there, and the folder."""
    storage().delete(delivery.path)
    if not db.session.execute(db.select(open_download(delivery.request_id, but=delivery.id))
                              ).scalar():
        remove_reference_folder(data_request.reference)


def remove_restored_files():
    """Delete again what a restored backup of ARCHIVE_DIR (or the bucket) brought back: the
    files of every closed request, by the sweep's rule (``remove_request_files``). Returns how
    many closed requests it checked.

    Idempotent, and a few deletes per closed request (its staging and, with no download open,
    its <REFERENCE>/ folder: a stat on a folder, a listing on a bucket): `requests expire`
    runs it, the hourly cron does not need to.
    """
    closed = db.session.execute(closed_with_files()).all()
    for row in closed:
        remove_request_files(row)
    return len(closed)


@job
def minimise_closed_requests(now=None):
    """Minimise every request closed longer than the retention setting; returns how many."""
    now = now or utcnow()
    days = current_app.config["CLOSED_REQUEST_RETENTION_DAYS"]
    ids = db.session.execute(
        db.select(DataRequest.id).where(DataRequest.state.in_(CLOSED_STATES),
                                        DataRequest.purged_at.is_(None),
                                        DataRequest.closed_at < now - timedelta(days=days))
    ).scalars().all()
    minimised = 0
    for request_id in ids:
        data_request = lock(request_id)
        if data_request is None or data_request.purged_at is not None:
            db.session.rollback()
            continue
        minimise(data_request)
        forget_links_and_mail(data_request)
        record(data_request, "system", "minimised",
               reason=f"closed more than {days} days ago: personal data minimised "
                      "(CLOSED_REQUEST_RETENTION_DAYS)")
        db.session.commit()
        minimised += 1
    forget_undeliverable_mail()
    return minimised


def forget_undeliverable_mail():
    """Mail of a minimised request that failed for good keeps no address, body or link.

    A deletion is minimised at completion, while its last email is still queued, so its mail
    cannot be forgotten then; once that email is sent its body goes, but one that failed
    would otherwise keep the person's address and words forever.
    """
    db.session.execute(
        db.update(MailMessage)
        .where(MailMessage.state == "failed",
               MailMessage.to_addr.is_not(None) | MailMessage.body_text.is_not(None)
               | MailMessage.context.is_not(None),
               MailMessage.request_id.in_(
                   db.select(DataRequest.id).where(DataRequest.purged_at.is_not(None))))
        .values(to_addr=None, body_text=None, body_html=None, context=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
