"""Error pages: every refusal is a page in words with the right 4xx, never a stack trace."""
import logging

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .portal.forms import ResendForm
from .ratelimit import RateLimited
from .tokens import LinkError

log = logging.getLogger(__name__)

LINK_PAGES = {
    "invalid": (400, _l("This link is not valid"), _l(
        "The link is incomplete or has been changed. Copy the whole link from the email, or "
        "start a new request.")),
    "expired": (410, _l("This link has expired"), _l(
        "Links stay valid for a limited time to protect your data. We can send you a new one "
        "to the same email address.")),
    # Status and download links cannot be sent again: only a new request makes new ones.
    "expired_for_good": (410, _l("This link has expired"), _l(
        "Links stay valid for a limited time to protect your data. If you still need this, "
        "please make a new request.")),
    "used": (410, _l("This link has already been used"), _l(
        "Each link works once. If you confirmed your request, the status link is in the email "
        "we sent afterwards.")),
    "download_expired": (410, _l("This download has expired"), _l(
        "To protect your data, files are deleted when their download window closes. You can "
        "make a new request and we will prepare them again.")),
    "download_used_up": (410, _l("This download has been used up"), _l(
        "Each file can be downloaded a limited number of times. You can make a new request and "
        "we will prepare it again.")),
}


def link_error(exc):
    renewable = request.path.startswith("/verify/")
    kind = "expired_for_good" if exc.kind == "expired" and not renewable else exc.kind
    code, title, message = LINK_PAGES[kind]
    # Only verify links can be renewed; an expired download needs a new request.
    offer_new = exc.kind == "expired" and exc.reference is not None and renewable
    return render_template("error.html", title=title, message=message, offer_new=offer_new,
                           form=ResendForm() if offer_new else None), code


def rate_limited(exc):
    response = render_template(
        "error.html", title=_("Too many attempts"),
        message=_("Please wait a little and try again. This limit protects people's data.")), 429
    return response[0], 429, {"Retry-After": str(exc.retry_after)}


def csrf_error(exc):
    return render_template(
        "error.html", title=_("The form could not be accepted"),
        message=_("The form was open too long or did not come from this site. Go back, reload "
                  "the page and send it again.")), 400


def http_error(exc):
    return render_template("error.html", title=exc.name, message=exc.description), exc.code


def database_down(exc):
    db.session.rollback()
    log.error("database unavailable on %s %s: %s", request.method, request.url_rule,
              type(exc).__name__)
    return render_template(
        "error.html", title=_("Temporarily unavailable"),
        message=_("We could not reach our records just now and nothing was saved. "
                  "Please try again in a few minutes.")), 503


def init_app(app):
    app.register_error_handler(LinkError, link_error)
    app.register_error_handler(RateLimited, rate_limited)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(OperationalError, database_down)
    app.register_error_handler(HTTPException, http_error)
