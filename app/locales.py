"""The person's language, and dates and moments as they read them: one writer for the verify
email, the download page and the documents, so one deadline reads the same everywhere.

Light on purpose (Babel and the zone rules only): the archive, PDF and mail builders import
it, and must not pull in the web app and its database layer (app.i18n: choosing the language
of a page).
"""
from babel import dates as babel_dates
from babel.core import get_global
from flask_babel import force_locale, format_date, get_locale

from .deadlines import safe_zone

LANGUAGES = {"en": "English", "ja": "日本語"}
UNPLACED = {None, "001", "ZZ"}  # CLDR's "world" and "unknown region": no place to name


def zone_label(zone, language):
    """A time zone as the reader names it: "Japan Time" / "日本時間" where CLDR knows the place,
    "UTC" for UTC, else the IANA id ("Etc/GMT+5", not "Unknown Region (GMT+5) Time")."""
    canonical = get_global("zone_aliases").get(zone.key, zone.key)
    if canonical == "Etc/UTC":
        return "UTC"
    if get_global("zone_territories").get(canonical) in UNPLACED:
        return zone.key
    return babel_dates.get_timezone_name(zone, width="long", locale=language)


def local_moment(moment, zone_name, locale=None):
    """A UTC moment as the person's clock shows it, in their language, the zone named:
    "2026-09-06 21:00 Japan Time", "2026年9月6日 21:00 日本時間" (UTC for an unknown zone).

    The verify email, the download page and the documents all write a moment this way, so one
    deadline reads the same everywhere. English keeps the ISO date its documents have always
    shown (unambiguous whichever side of the Atlantic reads it). `locale` defaults to the
    page's language.
    """
    if moment is None:
        return ""
    language = str(locale or get_locale() or "en")
    zone = safe_zone(zone_name)
    local = moment.astimezone(zone)
    label = zone_label(zone, language)
    if language == "en":
        return f"{local:%Y-%m-%d %H:%M} {label}"
    day = babel_dates.format_date(local.date(), format="long", locale=language)
    time = babel_dates.format_time(local.time(), format="short", locale=language)
    return f"{day} {time} {label}"


def long_date(day):
    """A calendar date written the way the reader's language writes it."""
    return "" if day is None else format_date(day, format="long")


def in_locale(locale):
    """Render inside the request's own language (for emails written by jobs)."""
    return force_locale(locale if locale in LANGUAGES else "en")
