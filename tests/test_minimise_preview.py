"""Housekeeping in workflows/expiry.py: minimising or purging a request also drops the preview
(a correction's preview quotes the person's current name and email as the stores hold them),
and two overlapping runs delete an expired download once, with one audit event."""
from datetime import timedelta

from test_downloads import completed_with_archive
from test_retention import close
from test_staff_access import make_request

import workflows.expiry
from app.extensions import db
from app.models import AuditEvent, DataRequest, Delivery, utcnow
from workflows.expiry import (
    expire_unverified,
    minimise_closed_requests,
    purge_expired_deliveries,
)

PREVIEW = {"counts": {"accounts": {"users": 1}}, "error": None,
           "current": {"email": [{"store": "accounts", "table": "users",
                                  "value": "alice@example.com"}]}}


def correction_with_preview(app, state):
    return make_request(app, request_type="correction", state=state, email="alice@example.com",
                        corrections=[{"field": "email", "current": "alice@example.com",
                                      "proposed": "alice@new.example.com"}],
                        preview=PREVIEW, preview_at=utcnow())


def test_minimising_a_closed_correction_drops_its_preview(app):
    request_id = correction_with_preview(app, state="completed")
    close(app, request_id, days_ago=731)
    with app.app_context():
        assert minimise_closed_requests() == 1
        data_request = db.session.get(DataRequest, request_id)
        assert data_request.preview is None and data_request.preview_at is None


def test_purging_an_expired_request_drops_its_preview(app):
    # A preview is built once a request is confirmed, so an unconfirmed one rarely has it; the
    # purge clears every field that can hold personal data all the same.
    request_id = correction_with_preview(app, state="pending_verification")
    with app.app_context():
        db.session.get(DataRequest, request_id).received_at = utcnow() - timedelta(days=8)
        db.session.commit()
        assert expire_unverified() == 1
        data_request = db.session.get(DataRequest, request_id)
        assert data_request.preview is None and data_request.preview_at is None


def test_overlapping_purges_delete_an_expired_download_once(app, tmp_path, monkeypatch):
    completed_with_archive(app, tmp_path, expires_in=timedelta(seconds=-1))
    real_lock = workflows.expiry.lock
    overlapped = []

    def lock_after_another_run(request_id):
        # Another run (its own app context, so its own session) deletes the download between
        # this run's listing of expired deliveries and its taking the lock.
        if not overlapped:
            overlapped.append(True)
            with app.app_context():
                assert purge_expired_deliveries() == 1
        return real_lock(request_id)

    monkeypatch.setattr(workflows.expiry, "lock", lock_after_another_run)
    with app.app_context():
        deleted = purge_expired_deliveries()
        events = db.session.execute(db.select(AuditEvent.action).where(
            AuditEvent.action == "delivery_deleted")).scalars().all()
        assert events == ["delivery_deleted"]
        assert deleted == 0  # the other run did it
        assert db.session.execute(db.select(Delivery.deleted_at)).scalar_one() is not None
