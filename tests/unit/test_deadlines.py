"""Deadline arithmetic: month ends, leap years, regimes, the company's promise, time zones."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import deadlines

UTC = timezone.utc


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("start,months,expected", [
    (at(2026, 1, 31), 1, at(2026, 2, 28)),       # clamps to the last day of February
    (at(2028, 1, 31), 1, at(2028, 2, 29)),       # leap year
    (at(2026, 3, 31), 1, at(2026, 4, 30)),
    (at(2026, 12, 15), 1, at(2027, 1, 15)),      # across the year
    (at(2026, 11, 30), 3, at(2027, 2, 28)),      # GDPR's total of three months
    (at(2028, 2, 29), 12, at(2029, 2, 28)),
    (at(2026, 5, 10, 13, 45), 2, at(2026, 7, 10, 13, 45)),
])
def test_calendar_month_arithmetic_clamps_at_month_end(start, months, expected):
    assert deadlines.add_months(start, months) == expected


def test_gdpr_clock_starts_at_verification_and_promise_can_win():
    received = at(2026, 1, 5, 9)
    verified = at(2026, 1, 6, 9)
    # 30 days from receipt (4 Feb) comes before one month from verification (6 Feb).
    assert deadlines.due_at("gdpr", received, verified, 30) == at(2026, 2, 4, 9)
    # A company with a 45-day promise is bound by GDPR's month from verification instead.
    assert deadlines.due_at("gdpr", received, verified, 45) == at(2026, 2, 6, 9)


def test_gdpr_february_month_is_shorter_than_the_promise():
    received = verified = at(2026, 2, 1, 12)
    # 1 Feb + 1 month = 1 Mar (28 days) comes before 1 Feb + 30 days = 3 Mar.
    assert deadlines.due_at("gdpr", received, verified, 30) == at(2026, 3, 1, 12)


def test_unverified_gdpr_request_has_only_the_promise():
    received = at(2026, 2, 1)
    assert deadlines.regime_deadline("gdpr", received, None) is None
    assert deadlines.due_at("gdpr", received, None, 30) == received + timedelta(days=30)


def test_ccpa_counts_from_receipt_and_verification_does_not_stop_it():
    received = at(2026, 6, 1)
    late_verification = at(2026, 6, 20)
    assert deadlines.regime_deadline("ccpa", received, late_verification) == at(2026, 7, 16)
    assert deadlines.due_at("ccpa", received, late_verification, 60) == at(2026, 7, 16)
    assert deadlines.due_at("ccpa", received, late_verification, 30) == at(2026, 7, 1)


def test_appi_and_elsewhere_use_the_company_promise():
    received = at(2026, 3, 10)
    for regime in ("appi", "company"):
        assert deadlines.due_at(regime, received, None, 30) == at(2026, 4, 9)


def test_region_maps_to_regime_with_a_safe_default():
    assert [deadlines.regime_for_region(r) for r in
            ("eu", "california", "us_other", "japan", "other", "atlantis")] == [
        "gdpr", "ccpa", "us_state", "appi", "company", "company"]


def test_extension_limits_per_regime():
    due = at(2026, 1, 31)
    assert deadlines.extension_limit("gdpr", due) == at(2026, 3, 31)
    assert deadlines.extension_limit("ccpa", due) == due + timedelta(days=45)
    assert deadlines.extension_limit("appi", due) is None


def test_ccpa_acknowledgement_within_ten_business_days():
    friday = at(2026, 11, 27)
    assert deadlines.acknowledgement_due("ccpa", friday) == at(2026, 12, 11)
    assert deadlines.acknowledgement_due("gdpr", friday) is None


def test_local_date_follows_the_persons_zone():
    moment = at(2026, 3, 1, 20, 30)
    assert deadlines.local_date(moment, "Asia/Tokyo") == date(2026, 3, 2)
    assert deadlines.local_date(moment, "America/Los_Angeles") == date(2026, 3, 1)
    assert deadlines.local_date(moment, "Not/AZone") == date(2026, 3, 1)
    assert deadlines.local_date(moment, "../../etc/passwd") == date(2026, 3, 1)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        deadlines.due_at("gdpr", datetime(2026, 1, 1), None)


def test_due_date_is_returned_in_utc_even_from_another_zone():
    tokyo = timezone(timedelta(hours=9))
    received = datetime(2026, 1, 1, 8, 0, tzinfo=tokyo)
    due = deadlines.due_at("appi", received, None, 30)
    assert due.tzinfo == UTC and due == at(2025, 12, 31, 23) + timedelta(days=30)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(sorted(deadlines.RULES)), st.integers(1, 120), st.integers(0, 7 * 24))
def test_due_date_never_later_than_promise_nor_before_receipt(received, regime, promise, hours):
    received = received.replace(tzinfo=UTC)
    verified = received + timedelta(hours=hours)
    due = deadlines.due_at(regime, received, verified, promise)
    assert received < due <= received + timedelta(days=promise)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(0, 36))
def test_add_months_lands_in_the_right_month_and_never_overshoots(moment, months):
    result = deadlines.add_months(moment, months)
    assert (result.year * 12 + result.month) - (moment.year * 12 + moment.month) == months
    assert result.day <= moment.day
