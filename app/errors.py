"""Error pages: every refusal is a page in words with the right 4xx, never a stack trace."""
import logging

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .models import DataRequest
from .portal.forms import ResendForm
from .ratelimit import RateLimited
from .tokens import LinkError

log = logging.getLogger(__name__)


class Refused(HTTPException):
    """A console refusal in our own words (`refuse`, a missing row): its page shows `message`.

    Any other HTTPException's description is Werkzeug's, or a library's, and never reaches a
    page.
    """

    def __init__(self, code, message):
        super().__init__(description=message)
        self.code = code


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


# What a person reads for any other HTTP error: a title and what to do next. Werkzeug's own name
# and description are English, written for developers, and may carry exception text.
ERROR_PAGES = {
    400: (_l("We could not accept that"), _l(
        "Something in what was sent was not as expected. Go back, reload the page and try "
        "again, or start from the home page.")),
    403: (_l("You cannot open this page"), _l(
        "This page is not open to you. Start from the home page, or use the link in the email "
        "we sent you.")),
    404: (_l("This page does not exist"), _l(
        "The address may be mistyped or out of date. Start from the home page, or use the link "
        "in the email we sent you.")),
    405: (_l("This page cannot be used that way"), _l(
        "Go back to the page you came from, reload it and try again, or start from the home "
        "page.")),
    413: (_l("What you sent is too long"), _l(
        "Please shorten what you typed, for example the details, and send it again.")),
    500: (_l("Something went wrong on our side"), _l(
        "Nothing was saved. Please try again later. If it keeps happening, write to us at the "
        "address at the bottom of this page.")),
}
# The console's titles, and the words when the refusal brought none of its own.
STAFF_ERROR_PAGES = {
    400: (_l("The change was not made"), _l("Go back, reload the page and try again.")),
    401: (_l("Log in first"), _l("Your session has ended. Log in again and repeat the change.")),
    403: (_l("Not allowed"), _l("Your role cannot do this. Ask an admin.")),
    404: (_l("Not found"), _l("There is no such page in the console.")),
    405: (_l("This page cannot be used that way"), _l(
        "Go back, reload the page and try again.")),
    409: (_l("The change was not made"), _l(
        "The request has changed since the page was loaded. Reload it and look again.")),
    413: (_l("The file is too large"), _l("Upload a smaller file.")),
    422: (_l("The change was not made"), _l("Go back, reload the page and try again.")),
    500: (_l("Something went wrong on our side"), _l(
        "Nothing was saved. Try again in a moment; if it keeps failing, tell an admin.")),
}


def on_staff_page():
    return request.path == "/staff" or request.path.startswith("/staff/")


def page_for(pages, code):
    """The entry for `code`, else its class's (4xx or 5xx)."""
    return pages.get(code) or pages[500 if code >= 500 else 400]


def error_page(code, title, message):
    """The public error page, or the console's own on /staff/ pages."""
    if on_staff_page():
        logged_in = staff_member_known()
        back_url, back_label = staff_way_back(logged_in)
        return render_template("staff/error.html", title=title, message=message,
                               back_url=back_url, back_label=back_label), code
    return render_template("error.html", title=title, message=message), code


def staff_member_known():
    """Whether a staff member is logged in. When the database cannot say (it is the error being
    shown), the page is drawn as for a visitor: the console's layout reads `current_user`, and
    loading it again would fail inside this handler and end in a bare 500."""
    try:
        return current_user.is_authenticated
    except SQLAlchemyError:
        db.session.rollback()
        current_app.login_manager._update_request_context_with_user(None)
        return False


def staff_way_back(logged_in):
    """An action on a request goes back to that request (when it exists and the visitor is
    logged in: the link must not tell a stranger which numbers exist); anything else to the
    queue. The router has read the id (and bounded it): an error on the request page itself
    goes to the queue, not round again."""
    request_id = (request.view_args or {}).get("request_id")
    if request_id is not None and logged_in and request.endpoint != "staff.request_page":
        try:
            reference = db.session.execute(db.select(DataRequest.reference).where(
                DataRequest.id == request_id)).scalar_one_or_none()
        except SQLAlchemyError:
            db.session.rollback()
            reference = None
        if reference is not None:
            return (url_for("staff.request_page", request_id=request_id),
                    _("Back to request %(reference)s", reference=reference))
    return url_for("staff.queue"), _("Back to the queue")


def link_error(exc):
    renewable = request.path.startswith("/verify/")
    kind = "expired_for_good" if exc.kind == "expired" and not renewable else exc.kind
    code, title, message = LINK_PAGES[kind]
    # Only verify links can be renewed; an expired download needs a new request.
    offer_new = exc.kind == "expired" and exc.reference is not None and renewable
    return render_template("error.html", title=title, message=message, offer_new=offer_new,
                           form=ResendForm() if offer_new else None), code


def rate_limited(exc):
    body, code = error_page(
        429, _("Too many attempts"),
        _("Please wait a little and try again. This limit protects people's data."))
    return body, code, {"Retry-After": str(exc.retry_after)}


def csrf_error(exc):
    return error_page(
        400, _("The form could not be accepted"),
        _("The form was open too long or did not come from this site. Go back, reload the page "
          "and send it again."))


def http_error(exc):
    """Every other HTTP error, the 500 of an unhandled exception included.

    People get our own words per code. The console also shows a `Refused`'s message (the staff
    actions' `refuse`); Werkzeug's descriptions and anything on a 5xx never reach a page.
    """
    if exc.code >= 500:
        db.session.rollback()
    if not on_staff_page():
        title, message = page_for(ERROR_PAGES, exc.code)
        return error_page(exc.code, title, message)
    title, message = page_for(STAFF_ERROR_PAGES, exc.code)
    if isinstance(exc, Refused) and exc.code < 500:
        message = exc.description
    return error_page(exc.code, title, message)


def database_down(exc):
    db.session.rollback()
    log.error("database unavailable on %s %s: %s", request.method, request.url_rule,
              type(exc).__name__)
    return error_page(
        503, _("Temporarily unavailable"),
        _("We could not reach our records just now and nothing was saved. "
          "Please try again in a few minutes."))


def init_app(app):
    app.register_error_handler(LinkError, link_error)
    app.register_error_handler(RateLimited, rate_limited)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(OperationalError, database_down)
    app.register_error_handler(HTTPException, http_error)
