"""Deadlines counted on the person's own calendar: month ends and DST in Berlin, Los Angeles
and Tokyo, where the UTC calendar would land a day off."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import deadlines

UTC = timezone.utc
BERLIN, LOS_ANGELES, TOKYO = "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo"


def local(zone_name, *args):
    return datetime(*args, tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def seen_in(moment, zone_name):
    """The local date and time of day a person in `zone_name` sees for `moment`."""
    wall = moment.astimezone(ZoneInfo(zone_name))
    return wall.date(), wall.time()


def test_gdpr_month_from_just_after_midnight_on_31_january_in_berlin_ends_28_february():
    confirmed = local(BERLIN, 2026, 1, 31, 0, 30)           # 30 January, 23:30 UTC
    due = deadlines.due_at("gdpr", confirmed, confirmed, 30, BERLIN)
    assert seen_in(due, BERLIN) == (date(2026, 2, 28), time(0, 30))
    assert due == datetime(2026, 2, 27, 23, 30, tzinfo=UTC)


def test_thirty_days_across_the_spring_change_in_los_angeles_are_thirty_calendar_days():
    received = local(LOS_ANGELES, 2026, 3, 1, 23, 30)     # 2 March, 07:30 UTC; DST from 8 March
    due = deadlines.due_at("company", received, None, 30, LOS_ANGELES)
    assert seen_in(due, LOS_ANGELES) == (date(2026, 3, 31), time(23, 30))


def test_gdpr_month_from_31_march_in_tokyo_ends_30_april_not_1_may():
    confirmed = local(TOKYO, 2026, 3, 31, 8)                # 30 March, 23:00 UTC
    due = deadlines.due_at("gdpr", confirmed, confirmed, 45, TOKYO)
    assert seen_in(due, TOKYO) == (date(2026, 4, 30), time(8))


def test_tokyo_leap_february_clamps_to_the_29th():
    confirmed = local(TOKYO, 2028, 1, 31, 7)                # 30 January, 22:00 UTC
    assert seen_in(deadlines.regime_deadline("gdpr", confirmed, confirmed, TOKYO), TOKYO)[0] == (
        date(2028, 2, 29))


def test_a_local_time_lost_to_the_spring_change_moves_past_the_gap_on_the_same_day():
    received = local(LOS_ANGELES, 2026, 2, 6, 2, 30)
    due = deadlines.due_at("company", received, None, 30, LOS_ANGELES)
    # 8 March 02:30 does not exist in Los Angeles: the clocks jump from 02:00 to 03:00.
    assert seen_in(due, LOS_ANGELES) == (date(2026, 3, 8), time(3, 30))


def test_a_local_time_that_happens_twice_in_autumn_takes_the_first():
    received = local(BERLIN, 2026, 9, 25, 2, 30)
    due = deadlines.due_at("company", received, None, 30, BERLIN)
    # 25 October 02:30 happens in summer time, then again in winter time: the earlier counts.
    assert due == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("zone_name", [None, "", "Not/AZone", "../../etc/passwd"])
def test_an_unknown_zone_counts_on_the_utc_calendar(zone_name):
    received = datetime(2026, 1, 31, 0, 30, tzinfo=UTC)
    assert deadlines.due_at("gdpr", received, received, 30, zone_name) == (
        datetime(2026, 2, 28, 0, 30, tzinfo=UTC))


def test_extension_limit_is_counted_on_the_persons_calendar():
    due = local(LOS_ANGELES, 2026, 2, 20, 23)               # 21 February, 07:00 UTC
    limit = deadlines.extension_limit("ccpa", due, LOS_ANGELES)
    # 45 days later on the person's calendar, across the spring change: 6 April, not 7.
    assert seen_in(limit, LOS_ANGELES) == (date(2026, 4, 6), time(23))
    berlin_due = local(BERLIN, 2026, 2, 28, 0, 30)
    assert seen_in(deadlines.extension_limit("gdpr", berlin_due, BERLIN), BERLIN) == (
        date(2026, 4, 28), time(0, 30))
    assert deadlines.extension_limit("appi", due, TOKYO) is None


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(sorted(deadlines.RULES)), st.integers(1, 120), st.integers(0, 7 * 24),
       st.sampled_from([BERLIN, LOS_ANGELES, TOKYO, "Australia/Lord_Howe", "UTC"]))
def test_due_date_is_after_receipt_and_within_the_promise_on_the_local_calendar(
        received, regime, promise, hours, zone_name):
    received = received.replace(tzinfo=UTC)
    verified = received + timedelta(hours=hours)
    due = deadlines.due_at(regime, received, verified, promise, zone_name)
    assert due.tzinfo == UTC and due > received
    assert (deadlines.local_date(due, zone_name) - deadlines.local_date(received, zone_name)
            <= timedelta(days=promise))
