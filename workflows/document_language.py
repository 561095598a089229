"""The language of the documents a person receives (index.html and the PDFs).

The builders translate their fixed text with flask_babel's gettext, so they speak whatever
language is active: the assemble job renders inside ``app.locales.in_locale(request.locale)``,
as the completion emails do. With no app context (unit tests, a script) it is English.

Dates come to the builders as ISO 8601 strings. English keeps a calendar date as written
(2026-09-06: unambiguous, and what the English documents have always shown) and writes a moment
as that date, the time to the minute and the zone (2026-09-06 21:00 Japan Time), never the raw
ISO moment with its microseconds; other languages get their own long form (2026年9月6日).
Moments are shown in the person's own time zone (the one their browser reported on the form),
named the reader's way (日本時間); UTC, said so, when unknown. ``app.locales.local_moment`` writes
them, as it does for the verify email and the download page: one deadline reads the same in all.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from flask_babel import get_locale

from app.locales import local_moment


def document_language() -> str:
    """The active language code ('en' outside any app context)."""
    return str(get_locale() or "en")


def written_date(value: object, zone_name: str | None = None) -> str:
    """An ISO 8601 date or moment the reader's way (a moment in `zone_name`, the person's
    IANA time zone, when there is one); anything else unchanged."""
    text = "" if value is None else str(value)
    language = document_language()
    if not text:
        return text
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if "T" not in text and " " not in text:  # a calendar date: no time of day to show
        return text if language == "en" else format_date(moment.date(), format="long",
                                                         locale=language)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # the builders' moments are UTC
    return local_moment(moment, zone_name, language)
