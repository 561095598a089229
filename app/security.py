"""Security headers on every response, and a UTF-8 check on every form body."""
from urllib.parse import unquote_to_bytes

from flask import current_app, render_template, request, session
from flask_babel import gettext as _


def content_security_policy(form_targets=()):
    """The policy; `form_targets` are extra origins a form may lead to (browsers apply
    form-action to the redirect that answers a form, e.g. to a bucket's download URL)."""
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        " ".join(["form-action 'self'", *form_targets]),
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ])


CSP = content_security_policy()

# Pages that show a person's request or carry a token in the URL: never cached anywhere.
PERSONAL_PREFIXES = ("/verify/", "/status/", "/download/", "/staff", "/dev/", "/requests/")


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: a link to another site still carries no path (and so no
    # token), but our own forms send their Referer, which Flask-WTF requires on https
    # (WTF_CSRF_SSL_STRICT): with no-referrer every form POST over https was refused.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.path.startswith(PERSONAL_PREFIXES) or sets_cookie(response):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def sets_cookie(response):
    """Whether the response carries a cookie: a shared cache must never hand it to another
    visitor (the language switch on a public page re-issues a staff member's whole session).

    Flask adds the session cookie after every after_request hook has run, so the session
    interface is asked whether it will. Hooks registered after this one (flask-login's
    remember cookie) run before it, so their cookies are already on the response.
    """
    if "Set-Cookie" in response.headers:
        return True
    interface = current_app.session_interface
    if interface.is_null_session(session):
        return False
    return session.modified or (bool(session) and interface.should_set_cookie(current_app,
                                                                               session))


def refuse_non_utf8_forms():
    """Refuse a urlencoded body whose values are not UTF-8.

    Werkzeug leaves undecodable %-escapes in place ("%FF"), which would be stored as if the
    person had typed them; refusing the form is clearer than keeping garbage.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        return None
    for pair in request.get_data(cache=True).split(b"&"):
        try:
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return render_template(
                "error.html", title=_("We could not read the form"),
                message=_("Some of what was sent is text we cannot read (it is not UTF-8). "
                          "Please type it again and resend the form.")), 400
    return None


def init_app(app):
    app.before_request(refuse_non_utf8_forms)
    app.after_request(set_security_headers)
