"""CSRF on every form, security headers, rate limits, clear 4xx for bad input, no tokens in logs."""
import logging
import re

import pytest
from helpers import csrf_token, submit
from test_links import verify_path

from app.extensions import db
from app.mail import bodies
from app.models import AuditEvent, DataRequest, LinkNonce, MailMessage
from app.tokens import make_link_token


def counts(app):
    with app.app_context():
        return tuple(db.session.query(model).count()
                     for model in (DataRequest, AuditEvent, LinkNonce, MailMessage))


def from_address(app, address):
    """A browser whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def status_path(app):
    with app.test_request_context():
        reference = db.session.execute(db.select(DataRequest.reference)).scalar_one()
        return "/status/" + make_link_token("status", reference)


def test_every_form_rejects_a_missing_csrf_token(client, app):
    good = {"request_type": "access", "email": "a@example.com", "name": "A", "region": "eu"}
    assert client.post("/requests/new", data=good).status_code == 400
    assert counts(app) == (0, 0, 0, 0)
    submit(client)
    path = verify_path(app)
    before = counts(app)
    assert client.post(path).status_code == 400
    assert client.post(path + "/resend").status_code == 400
    assert client.post("/requests/resend").status_code == 400
    assert client.post(status_path(app) + "/cancel").status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert counts(app) == before
    with app.app_context():
        state = db.session.execute(db.select(DataRequest.state)).scalar_one()
        assert state == "pending_verification"


def test_security_headers_on_every_page(client, app):
    submit(client)
    pages = ["/", "/requests/new", "/requests/sent", verify_path(app), "/healthz",
             "/no-such-page", "/verify/garbage"]
    for page in pages:
        response = client.get(page)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, page
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
    for personal in ("/requests/new", "/requests/sent", verify_path(app), "/verify/garbage"):
        assert client.get(personal).headers["Cache-Control"] == "no-store", personal


def test_pages_carry_no_inline_script_or_style(client, app):
    submit(client)
    for page in ("/", "/requests/new", "/requests/sent", verify_path(app)):
        html = client.get(page).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert " style=" not in html and "<style" not in html, page
        assert re.search(r"\son\w+=", html) is None, page


def test_session_cookie_is_httponly_samesite_and_secure_on_https(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    submit(client)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.secure
    assert cookie.same_site == "Lax"


def test_intake_is_rate_limited(make_app):
    app = make_app(RATE_LIMITS={"intake": (3, 3600), "recipient": (100, 3600),
                                "verify": (30, 600), "resend": (3, 3600), "status": (100, 600)})
    client = app.test_client()
    codes = [submit(client, email=f"p{i}@example.com").status_code for i in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert counts(app)[0] == 3


def test_one_address_gets_few_requests_an_hour_from_anywhere_and_the_page_never_says(
        make_app):
    """The form mails whatever address is typed in: from many clients at once (a botnet, or
    IPv6 addresses) it must not become a way to flood someone's inbox. Past the limit
    nothing is stored or mailed, and the answer is the same "check your email" page."""
    app = make_app(RATE_LIMITS={"intake": (100, 3600), "recipient": (2, 3600),
                                "verify": (30, 600), "resend": (3, 3600), "status": (100, 600)})
    pages = []
    for i in range(4):
        client = from_address(app, f"198.51.100.{i + 1}")
        response = submit(client, email="Victim@Example.com")
        sent = client.get(response.headers["Location"]).get_data(as_text=True)
        pages.append((response.status_code, "Send the link again" in sent))
    assert pages == [(303, True)] * 4  # the same page, its resend button included
    requests, _, _, mails = counts(app)
    assert (requests, mails) == (2, 2)  # two requests and their two verify mails, no more
    other = from_address(app, "198.51.100.9")
    assert submit(other, email="someone.else@example.com").status_code == 303
    assert counts(app)[0] == 3


def test_the_verify_mail_carries_nothing_typed_into_the_form(client, app):
    """Anyone can type any address into the form: the mail sent to it, before the person has
    confirmed anything, must not carry the sender's words (a name field holding a phishing
    paragraph and a link would arrive from the company's own address)."""
    lure = "Alice, URGENT call +1 555 0100 or visit evil.example now"
    assert submit(client, email="victim@example.com", name=lure,
                  details="more text from the sender").status_code == 303
    with app.app_context():
        text, html = bodies(db.session.execute(db.select(MailMessage)).scalar_one())
    for part in (text, html):
        assert "URGENT" not in part and "evil.example" not in part and "more text" not in part
        assert "It asks for access." in part


def test_ipv6_clients_are_counted_by_their_64_block(make_app):
    """One subscriber gets a whole /64: a fresh address per request must not be a fresh limit."""
    app = make_app(RATE_LIMITS={"intake": (2, 3600), "recipient": (100, 3600),
                                "verify": (30, 600), "resend": (3, 3600), "status": (100, 600)})
    codes = [submit(from_address(app, f"2001:db8:1:2::{i:x}"), email=f"p{i}@example.com")
             .status_code for i in range(1, 4)]
    assert codes == [303, 303, 429]
    elsewhere = from_address(app, "2001:db8:1:3::1")
    assert submit(elsewhere, email="q@example.com").status_code == 303


def test_resend_is_rate_limited_per_request(make_app):
    app = make_app()
    client = app.test_client()
    submit(client)
    codes = [client.post("/requests/resend",
                         data={"csrf_token": csrf_token(client, "/requests/sent")}).status_code
             for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    with app.app_context():
        assert db.session.query(MailMessage).count() == 4  # the first link and three resends


BAD_INPUT = [
    ({"email": "not-an-email"}, "valid email address"),
    ({"email": "a" * 250 + "@example.com"}, "at most 254"),
    ({"name": "x" * 201}, "Field cannot be longer than 200 characters"),
    ({"name": ""}, "Enter your name"),
    ({"request_type": "steal"}, "Not a valid choice"),
    ({"region": "mars"}, "Not a valid choice"),
    ({"request_type": "deletion"}, "tick the box"),
    ({"request_type": "correction"}, "at least one piece of information"),
    ({"request_type": "correction", "corrections-0-field": "name"}, "both the information"),
    ({"name": "<script>alert(1)</script>"}, "without HTML tags"),
    ({"details": "hello <img src=x onerror=alert(1)>"}, "without HTML tags"),
    ({"details": "x" * 5001}, "Field cannot be longer than 5000 characters"),
    ({"name": "Al\x00ice"}, "cannot read"),
]


@pytest.mark.parametrize("fields,message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_gets_a_clear_message_and_400_and_writes_nothing(client, app, fields, message):
    response = submit(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0, 0)


def test_non_utf8_form_body_is_refused_with_400(client, app):
    token = csrf_token(client, "/requests/new")
    body = (f"csrf_token={token}&request_type=access&email=a%40example.com&region=eu"
            "&name=%ff%fe%fa").encode()
    response = client.post("/requests/new", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "cannot read" in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0, 0)


def test_oversized_body_is_refused_with_413(client, app):
    token = csrf_token(client, "/requests/new")
    response = client.post("/requests/new", data={"csrf_token": token, "details": "x" * 70000})
    assert response.status_code == 413
    assert counts(app) == (0, 0, 0, 0)


def test_tokens_never_reach_the_logs(client, app, caplog):
    submit(client)
    path = verify_path(app)
    token = path.removeprefix("/verify/")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("werkzeug").info('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', path)
        client.get(path)
    assert token not in caplog.text
    assert "/verify/<token>" in caplog.text


def test_dev_mailbox_exists_only_in_development(make_app, monkeypatch):
    assert make_app().test_client().get("/dev/mailbox/").status_code == 404
    monkeypatch.setenv("DSR_ENV", "development")
    dev = make_app()
    client = dev.test_client()
    submit(client)
    from helpers import run_worker

    run_worker()
    page = client.get("/dev/mailbox/")
    assert page.status_code == 200 and b"Confirm your privacy request" in page.data
    name = re.search(r'/dev/mailbox/([\w.-]+\.eml)', page.get_data(as_text=True)).group(1)
    message = client.get(f"/dev/mailbox/{name}")
    assert b'href="http://portal.test/verify/' in message.data
    assert client.get("/dev/mailbox/..%2fsecret_key").status_code == 404


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_says_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] != "ok"


def test_behind_a_trusted_proxy_each_client_has_its_own_rate_limit(make_app):
    app = make_app(TRUSTED_PROXIES=1, RATE_LIMITS={
        "intake": (2, 3600), "recipient": (100, 3600), "verify": (30, 600),
        "resend": (3, 3600), "status": (100, 600)})
    client = app.test_client()

    def from_address(address):
        data = {"request_type": "access", "email": "p@example.com", "name": "P", "region": "eu",
                "csrf_token": csrf_token(client, "/requests/new")}
        return client.post("/requests/new", data=data,
                           headers={"X-Forwarded-For": address}).status_code

    # ProxyFix is applied in create_app, so the test client goes through it like gunicorn would.
    assert [from_address("203.0.113.1") for _ in range(3)] == [303, 303, 429]
    assert from_address("203.0.113.2") == 303
