"""A preview scan overtaken by the hourly expiry, or by staff matching a correction's field:
what the scan read must not be written back to a request that has forgotten the person, or
under a field name the request no longer uses (demo stores, real SQLite)."""
from datetime import timedelta

from test_staff_access import make_request

import workflows.preview as preview
from app.extensions import db
from app.models import DataRequest, utcnow
from workflows.expiry import expire_unverified


def test_a_preview_finishing_after_the_request_expired_writes_nothing_back(demo_app,
                                                                          monkeypatch):
    """The hourly expiry purges an unconfirmed correction while its preview scans the stores:
    the scan's names and addresses must not land on the purged request."""
    request_id = make_request(demo_app, request_type="correction", state="pending_verification",
                              email="alice@example.com",
                              corrections=[{"field": "name", "proposed": "Alicia",
                                            "problem": ""}])
    with demo_app.app_context():
        db.session.get(DataRequest, request_id).received_at = utcnow() - timedelta(days=8)
        db.session.commit()
    real_scan = preview.scan

    def scan_overtaken_by_expiry(data_map, email):
        counts = real_scan(data_map, email)
        assert expire_unverified() == 1  # lands while the stores are being read
        return counts

    monkeypatch.setattr(preview, "scan", scan_overtaken_by_expiry)
    with demo_app.app_context():
        assert "dropped" in preview.build_preview(request_id)
        request = db.session.get(DataRequest, request_id)
        assert request.state == "expired" and request.purged_at is not None
        assert request.preview is None and request.email is None


def test_a_preview_finishing_after_staff_matched_a_field_writes_nothing_back(demo_app,
                                                                           monkeypatch):
    """Staff match "Full name" to `name` while a scan for "Full name" runs: its values, keyed
    by the old name, must not land as the request's fresh preview (the match's scan writes)."""
    request_id = make_request(demo_app, request_type="correction", email="alice@example.com",
                              corrections=[{"field": "Full name", "proposed": "Alicia",
                                            "problem": ""}])
    real_scan = preview.scan

    def scan_overtaken_by_a_match(data_map, email):
        counts = real_scan(data_map, email)
        with demo_app.app_context():  # what actions.match commits meanwhile
            request = db.session.get(DataRequest, request_id)
            request.corrections = [{"field": "name", "proposed": "Alicia", "problem": ""}]
            request.preview, request.preview_at = None, None
            db.session.commit()
        return counts

    monkeypatch.setattr(preview, "scan", scan_overtaken_by_a_match)
    with demo_app.app_context():
        assert "dropped" in preview.build_preview(request_id)
        request = db.session.get(DataRequest, request_id)
        assert request.preview is None and request.preview_at is None
        assert request.corrections[0]["field"] == "name"
    monkeypatch.setattr(preview, "scan", real_scan)
    with demo_app.app_context():  # the match's own scan writes under the new name
        assert preview.build_preview(request_id) == "preview written"
        assert set(db.session.get(DataRequest, request_id).preview["current"]) == {"name"}
