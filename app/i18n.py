"""English and Japanese for everything a person sees: pages, form messages and emails.

The language follows the browser (Accept-Language) until the person picks one with the switch
on every page (`?lang=ja`), which is remembered in the session. Emails use the language the
request was made in (DataRequest.locale), since a job has no browser to ask.
"""
from urllib.parse import quote

from flask import has_request_context, request, session
from flask_babel import Babel, get_locale
from sqlalchemy import event

from .config import ROOT
from .locales import LANGUAGES
from .models import DataRequest

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
