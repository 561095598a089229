"""Deadline arithmetic: pure functions, no I/O, no Flask.

A request's due date is the earliest of the deadlines that apply to it: its legal regime's
(chosen from the region the person gave) and the company's own promise (PROMISE_DAYS, 30 by
default, counted from receipt). Times are aware UTC datetimes in and out, but months and days
are counted on the person's own calendar (`zone_name`, the request's IANA time zone): a month
from 00:30 on 31 January in Berlin ends on 28 February there, whatever date UTC shows.
"""
import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REGIME_BY_REGION = {
    "eu": "gdpr",          # EU/EEA GDPR and UK GDPR share Art. 12(3)'s one month.
    "california": "ccpa",  # CCPA/CPRA
    "us_other": "us_state",  # Virginia, Colorado, ... all 45 days (+45) as of 2026
    "japan": "appi",
    "other": "company",
}


@dataclass(frozen=True)
class Rule:
    label: str
    clock_start: str          # "received" or "verified": which event starts the legal clock
    months: int = 0
    days: int = 0
    extension_months: int = 0
    extension_days: int = 0
    ack_business_days: int | None = None


RULES = {
    # Art. 12(3): one month from receipt of the request; the EDPB accepts that the clock starts
    # once identity is confirmed when verification is genuinely needed. +2 months with notice.
    "gdpr": Rule("GDPR / UK GDPR", "verified", months=1, extension_months=2),
    # Cal. Civ. Code 1798.130: 45 days from receipt, verification does not stop it; +45 once.
    "ccpa": Rule("CCPA / CPRA", "received", days=45, extension_days=45, ack_business_days=10),
    "us_state": Rule("US state privacy law", "received", days=45, extension_days=45),
    # APPI asks for a response "without delay"; the company's written promise (30 days) stands in.
    "appi": Rule("APPI (Japan)", "received"),
    "company": Rule("Company policy", "received"),
}


def regime_for_region(region):
    """The regime for a region from the form; unknown regions fall back to the company's promise."""
    return REGIME_BY_REGION.get(region, "company")


def add_months(moment, months):
    """Calendar-month arithmetic that clamps at month end: 31 Jan + 1 month = 28/29 Feb."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_business_days(moment, days):
    """Add working days (Monday to Friday); public holidays are not modelled."""
    current = moment
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def on_local_calendar(moment, zone_name, months=0, days=0):
    """`moment` moved by calendar months and days as the person in `zone_name` counts them.

    The due moment keeps the local time of day it started from (not the end of that local
    day): it is never later than the law's own end-of-day reading, and a date moved by whole
    days or months still shows the same local time. A local time that does not exist on the
    target day (a DST gap) moves forward past the gap; one that occurs twice takes the first.
    """
    zone = safe_zone(zone_name)
    wall = moment.astimezone(zone).replace(tzinfo=None)
    wall = add_months(wall, months) + timedelta(days=days)
    return wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)


def on_local_date(day, same_time_as, zone_name):
    """The UTC moment of `day` on the calendar of `zone_name`, at the local time of day of
    `same_time_as` (staff pick a date; the deadline keeps its hour as the person sees it)."""
    zone = safe_zone(zone_name)
    wall = datetime.combine(day, same_time_as.astimezone(zone).time())
    return wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)


def _require_aware(moment, name):
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


def regime_deadline(regime, received_at, verified_at, zone_name="UTC"):
    """The legal deadline alone, or None while its clock has not started (unverified GDPR)."""
    rule = RULES[regime]
    if not (rule.months or rule.days):
        return None
    start = received_at if rule.clock_start == "received" else verified_at
    if start is None:
        return None
    return on_local_calendar(start, zone_name, rule.months, rule.days)


def due_at(regime, received_at, verified_at=None, promise_days=30, zone_name="UTC"):
    """The due date: the earliest of the regime's deadline and the company's promise, both
    counted on the calendar of `zone_name` (the person's IANA zone; UTC when unknown)."""
    _require_aware(received_at, "received_at")
    _require_aware(verified_at, "verified_at")
    candidates = [on_local_calendar(received_at, zone_name, days=promise_days)]
    legal = regime_deadline(regime, received_at, verified_at, zone_name)
    if legal is not None:
        candidates.append(legal)
    return min(candidates)


def extension_limit(regime, current_due, zone_name="UTC"):
    """The latest date an extension may set, or None when the regime allows none."""
    rule = RULES[regime]
    if not (rule.extension_months or rule.extension_days):
        return None
    return on_local_calendar(current_due, zone_name, rule.extension_months,
                             rule.extension_days)


def acknowledgement_due(regime, received_at):
    """When an acknowledgement must have gone out, for regimes that ask for one (CCPA: 10 days)."""
    rule = RULES[regime]
    if rule.ack_business_days is None:
        return None
    return add_business_days(received_at, rule.ack_business_days)


def safe_zone(name):
    """A ZoneInfo for an IANA name from the browser, or UTC for anything unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment, zone_name):
    """The calendar date a person in `zone_name` sees for a UTC moment."""
    if moment is None:
        return None
    return moment.astimezone(safe_zone(zone_name)).date()


def calendar_days_left(due, now, zone_name="UTC"):
    """Calendar days from today to the due date on the calendar of `zone_name`: 1 thirteen
    hours before a due date of tomorrow, 0 all of the due day (before and after the due
    moment), negative once a later day has begun. The staff badge and the reminder and
    escalation mails all count this way, so they never disagree."""
    return (local_date(due, zone_name) - local_date(now, zone_name)).days


def is_valid_zone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


__all__ = [
    "RULES", "Rule", "add_business_days", "add_months", "acknowledgement_due",
    "calendar_days_left", "due_at", "extension_limit", "is_valid_zone", "local_date",
    "on_local_calendar", "on_local_date", "regime_deadline", "regime_for_region", "safe_zone",
]
