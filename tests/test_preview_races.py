"""A preview scan overtaken by the hourly expiry: what the scan read of the person must not be
written back to a request that has forgotten them (demo stores, real SQLite)."""
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
