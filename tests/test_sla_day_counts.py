"""The staff badge and the reminder and escalation mails count days the same way (calendar
days in UTC), so staff never read "1 day left" on the console and "less than a day" in the mail
for the same request. Real SQLite, mails read from the rows the sweep wrote."""
from datetime import datetime, timedelta, timezone

import pytest
from test_staff_access import ADMIN, AGENT, create_staff, make_request

from app.deadlines import calendar_days_left
from app.extensions import db
from app.models import OPEN_STATES, DataRequest, MailMessage
from app.staff.sla_badge import sla_badge
from workflows.sla import sweep

EVENING = datetime(2025, 3, 10, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("due_at, left", [
    (EVENING + timedelta(hours=13), 1),      # 09:00 tomorrow
    (EVENING + timedelta(hours=3), 0),       # 23:00 today
    (EVENING - timedelta(minutes=5), 0),     # late, but still the due day
    (EVENING - timedelta(hours=21), -1),     # 23:00 yesterday
])
def test_calendar_days_left_counts_dates_not_24_hour_periods(due_at, left):
    assert calendar_days_left(due_at, EVENING) == left


def test_calendar_days_left_counts_on_the_given_zone():
    # 20:00 UTC on the 10th is 05:00 on the 11th in Tokyo: 09:00 UTC on the 11th is the same day.
    assert calendar_days_left(EVENING + timedelta(hours=13), EVENING, "Asia/Tokyo") == 0


def mail_for(app, due_at, kind):
    create_staff(app, AGENT)
    create_staff(app, ADMIN, "admin")
    request_id = make_request(app, state="in_progress")
    with app.app_context():
        db.session.get(DataRequest, request_id).due_at = due_at
        db.session.commit()
        sweep(EVENING)
        return db.session.execute(db.select(MailMessage.body_text).where(
            MailMessage.request_id == request_id, MailMessage.kind == kind)).scalars().first()


@pytest.mark.parametrize("due_at, kind, badge, mail", [
    (EVENING + timedelta(hours=13), "reminder", "Due soon: 1 day left", "UTC: 1 day(s) left."),
    (EVENING + timedelta(hours=3), "reminder", "Due soon: due today", "UTC: due today."),
    (EVENING - timedelta(minutes=5), "escalation", "Overdue: was due earlier today",
     "UTC, earlier today."),
    (EVENING - timedelta(hours=21), "escalation", "Overdue by 1 day", "UTC, 1 day(s) ago."),
])
def test_badge_and_mail_agree_on_the_days(app, due_at, kind, badge, mail):
    assert sla_badge("in_progress", due_at, None, EVENING, OPEN_STATES)[0] == badge
    assert mail in mail_for(app, due_at, kind)
