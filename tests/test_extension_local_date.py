"""Extending a deadline: the date staff pick is the person's own calendar date, the legal limit
is checked on that calendar, and the person's status page says what changed and why."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpers import csrf_token
from test_staff_access import AGENT, logged_in, make_request

from app import deadlines
from app.extensions import db
from app.factory import format_local_date
from app.models import AuditEvent, DataRequest, utcnow
from app.tokens import public_link

LOS_ANGELES = "America/Los_Angeles"


def late_evening_request(app, regime="ccpa"):
    """A request due at 23:00 in Los Angeles about three weeks from now: 07:00 (or 06:00) UTC
    the next day, so the UTC date and the person's date differ."""
    zone = ZoneInfo(LOS_ANGELES)
    day = (utcnow().astimezone(zone) + timedelta(days=20)).date()
    due = datetime.combine(day, time(23), zone)
    request_id = make_request(app, regime=regime, timezone=LOS_ANGELES)
    with app.app_context():
        db.session.get(DataRequest, request_id).due_at = due
        db.session.commit()
    return request_id, day


def extend(client, request_id, day, reason="Records are spread over archived systems"):
    page = f"/staff/requests/{request_id}"
    return client.post(f"{page}/extend", data={"csrf_token": csrf_token(client, page),
                                                "new_due": day.isoformat(), "reason": reason})


def test_the_chosen_date_is_the_persons_date_at_the_same_local_time(app):
    client = logged_in(app, AGENT)
    request_id, due_day = late_evening_request(app)
    chosen = due_day + timedelta(days=10)
    assert extend(client, request_id, chosen).status_code == 302
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        seen = data_request.due_at.astimezone(ZoneInfo(LOS_ANGELES))
        assert (seen.date(), seen.time()) == (chosen, time(23))
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.request_id == request_id, AuditEvent.action == "extended")).scalar_one()
        assert f"{due_day.isoformat()} -> {chosen.isoformat()} ({LOS_ANGELES})" in event.reason


def test_the_legal_limit_is_checked_on_the_persons_calendar(app):
    client = logged_in(app, AGENT)
    request_id, due_day = late_evening_request(app)
    limit_day = due_day + timedelta(days=45)
    refused = extend(client, request_id, limit_day + timedelta(days=1))
    assert refused.status_code == 422
    assert f"at most {limit_day.isoformat()} ({LOS_ANGELES})" in refused.get_data(as_text=True)
    assert extend(client, request_id, limit_day).status_code == 302


def test_the_staff_page_names_the_persons_zone_for_the_new_date(app):
    client = logged_in(app, AGENT)
    request_id, due_day = late_evening_request(app)
    page = client.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    assert f"New due date, in the person&#39;s time zone ({LOS_ANGELES})" in page
    limit = deadlines.extension_limit("ccpa", datetime.combine(
        due_day, time(23), ZoneInfo(LOS_ANGELES)), LOS_ANGELES)
    with app.test_request_context():
        assert f"at most {format_local_date(limit, LOS_ANGELES)} in {LOS_ANGELES}" in page


def test_the_status_page_says_the_deadline_was_extended_from_when_to_when_and_why(app):
    client = logged_in(app, AGENT)
    request_id, due_day = late_evening_request(app)
    chosen = due_day + timedelta(days=10)
    assert extend(client, request_id, chosen,
                  reason="Records & files are spread over archived systems").status_code == 302
    with app.test_request_context():
        data_request = db.session.get(DataRequest, request_id)
        status = public_link("status", data_request.reference).removeprefix(
            app.config["BASE_URL"])
    page = app.test_client().get(status).get_data(as_text=True)
    assert "Deadline extended" in page
    assert (f"from {due_day:%B} {due_day.day}, {due_day.year} to "
            f"{chosen:%B} {chosen.day}, {chosen.year}") in page
    assert "The reason: Records &amp; files are spread over archived systems" in page
