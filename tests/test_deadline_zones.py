"""Every place that sets a due date counts it on the person's calendar (their browser's zone):
the intake form, the confirm link, and a confirmation backdated by an API caller."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from helpers import submit

from app import lifecycle
from app.extensions import db
from app.intake import confirm_identity
from app.lifecycle import lock, transition
from app.models import DataRequest
from app.portal import views as portal_views

UTC = timezone.utc


def local(zone_name, *args):
    return datetime(*args, tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def local_due_date(data_request):
    return data_request.due_at.astimezone(ZoneInfo(data_request.timezone)).date()


def submitted_at(app, client, monkeypatch, moment, **fields):
    monkeypatch.setattr(portal_views, "utcnow", lambda: moment)
    assert submit(client, **fields).status_code == 303
    with app.app_context():
        return db.session.execute(db.select(DataRequest.id)).scalar_one()


def test_the_form_counts_the_promise_on_the_persons_calendar(app, client, monkeypatch):
    # 23:30 on 1 March in Los Angeles; 30 days end on 31 March there, not 1 April.
    request_id = submitted_at(app, client, monkeypatch, local("America/Los_Angeles", 2026, 3, 1,
                                                                23, 30),
                              region="other", timezone="America/Los_Angeles")
    with app.app_context():
        assert local_due_date(db.session.get(DataRequest, request_id)) == date(2026, 3, 31)


def test_confirming_counts_the_gdpr_month_on_the_persons_calendar(app, client, monkeypatch):
    moment = local("Europe/Berlin", 2026, 1, 31, 0, 30)    # 30 January, 23:30 UTC
    request_id = submitted_at(app, client, monkeypatch, moment, region="eu",
                              timezone="Europe/Berlin")
    monkeypatch.setattr(lifecycle, "utcnow", lambda: moment)
    with app.test_request_context():
        transition(lock(request_id), "verified", "subject")
        db.session.commit()
        assert local_due_date(db.session.get(DataRequest, request_id)) == date(2026, 2, 28)


def test_a_backdated_confirmation_counts_on_the_persons_calendar(app, client, monkeypatch):
    moment = local("Asia/Tokyo", 2026, 3, 31, 8)             # 30 March, 23:00 UTC
    request_id = submitted_at(app, client, monkeypatch, moment, region="eu",
                              timezone="Asia/Tokyo")
    app.config["PROMISE_DAYS"] = 45                          # so that the GDPR month decides
    with app.test_request_context():
        confirm_identity(lock(request_id), "api", "vouched", verified_at=moment)
        db.session.commit()
        assert local_due_date(db.session.get(DataRequest, request_id)) == date(2026, 4, 30)
