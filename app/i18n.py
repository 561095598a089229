"""English and Japanese for everything a person sees: pages, form messages and emails.

The language follows the browser (Accept-Language) until the person picks one with the switch
on every page (`?lang=ja`), which is remembered in the session. Emails use the language the
request was made in (DataRequest.locale), since a job has no browser to ask.
"""
from urllib.parse import quote

from babel import dates as babel_dates
from babel.core import get_global
from flask import has_request_context, request, session
from flask_babel import Babel, force_locale, format_date, get_locale
from sqlalchemy import event

from .config import ROOT
from .deadlines import safe_zone
from .models import DataRequest

LANGUAGES = {"en": "English", "ja": "日本語"}
UNPLACED = {None, "001", "ZZ"}  # CLDR's "world" and "unknown region": no place to name
babel = Babel()


def select_locale():
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def remember_choice():
    """`?lang=xx` on any page switches the language for the rest of the visit."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen


def current_language():
    return str(get_locale() or "en")


def language_links():
    """(code, name, url) for the switch: the same page in the other language.

    Never a link to another host, whatever path a 404 was asked for: one leading slash (a
    "/\\evil.example/x" would be read as a link to evil.example), and the rest percent-encoded
    (browsers drop tabs and line breaks, so "/\t/evil.example/x" would be too).
    """
    path = quote("/" + request.path.lstrip("/\\"), safe="/")
    return [(code, name, f"{path}?lang={code}") for code, name in LANGUAGES.items()]


def long_date(day):
    """A calendar date written the way the reader's language writes it."""
    return "" if day is None else format_date(day, format="long")


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
    language = str(locale or current_language())
    zone = safe_zone(zone_name)
    local = moment.astimezone(zone)
    label = zone_label(zone, language)
    if language == "en":
        return f"{local:%Y-%m-%d %H:%M} {label}"
    day = babel_dates.format_date(local.date(), format="long", locale=language)
    time = babel_dates.format_time(local.time(), format="short", locale=language)
    return f"{day} {time} {label}"


def in_locale(locale):
    """Render inside the request's own language (for emails written by jobs)."""
    return force_locale(locale if locale in LANGUAGES else "en")


@event.listens_for(DataRequest, "before_insert")
def remember_request_language(mapper, connection, data_request):
    """A new request keeps the language it was made in, wherever it is created (form or API),
    so that its emails, written later by jobs, speak the same language."""
    if data_request.locale is None and has_request_context():
        data_request.locale = current_language()


def init_app(app):
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_choice)
    app.jinja_env.globals.update(current_language=current_language,
                                 language_links=language_links, LANGUAGES=LANGUAGES)
