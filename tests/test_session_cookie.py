"""The session cookie is signed, not hidden: what it shows (no second-factor secret, no sign of
an address's hourly limit), and that no cache stores a response that sets it."""
import base64
import json
import re
import time
import zlib
from datetime import timedelta

from helpers import csrf_token, submit
from test_staff_access import ADMIN, AGENT, PASSWORD, logged_in, staff_row

from app.extensions import db
from app.models import DataRequest, MailMessage, StaffUser, utcnow
from app.staff import totp


def session_data(client):
    """The session cookie as anyone who sees it can read it: Flask signs it, it does not hide it."""
    raw = client.get_cookie("session").value
    payload = raw.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(data) if raw.startswith(".") else data)


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/staff/account"), **fields})


def offered_secret(client):
    page = client.get("/staff/account").get_data(as_text=True)
    found = re.search(r'<p class="passphrase"><code>([A-Z2-7]+)</code>', page)
    return found.group(1) if found else None


def test_the_secret_offered_for_a_second_factor_never_travels_in_the_session_cookie(app):
    me = logged_in(app, AGENT)
    assert post(me, "/staff/account/totp/start", **{"confirm-current": PASSWORD}).status_code == 302
    secret = offered_secret(me)
    cookie = session_data(me)
    assert secret and secret not in json.dumps(cookie) and "totp_setup" not in cookie
    assert staff_row(app).totp_pending_secret == secret

    code = totp.code_at(secret, totp.counter_for(time.time()))
    assert post(me, "/staff/account/totp/confirm", code=code).status_code == 302
    row = staff_row(app)
    assert row.totp_secret == secret
    assert row.totp_pending_secret is None and row.totp_pending_at is None
    assert secret not in json.dumps(session_data(me))


def test_an_offered_secret_expires_after_ten_minutes_and_is_forgotten(app):
    me = logged_in(app, AGENT)
    assert post(me, "/staff/account/totp/start", **{"confirm-current": PASSWORD}).status_code == 302
    secret = offered_secret(me)
    with app.app_context():
        db.session.execute(db.update(StaffUser).values(
            totp_pending_at=utcnow() - timedelta(seconds=601)))
        db.session.commit()
    code = totp.code_at(secret, totp.counter_for(time.time()))
    response = post(me, "/staff/account/totp/confirm", code=code)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/account"
    row = staff_row(app)
    assert row.totp_secret is None
    assert row.totp_pending_secret is None and row.totp_pending_at is None
    assert offered_secret(me) is None


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def press_resend(client, times):
    token = csrf_token(client, "/requests/sent")
    return [client.post("/requests/resend", data={"csrf_token": token}).status_code
            for _ in range(times)]


def test_the_cookie_does_not_tell_whether_an_address_hit_its_hourly_limit(make_app,
                                                                         monkeypatch):
    """Past RATE_RECIPIENT nothing is stored, but the readable cookie must not say so: it holds
    a reference-shaped value either way, and "send the link again" is limited alike."""
    monkeypatch.setenv("RATE_RECIPIENT", "2")
    monkeypatch.setenv("RATE_RESEND", "3")
    app = make_app()
    clients = [from_address(app, f"198.51.100.{i + 1}") for i in range(3)]
    for client in clients:  # three people, the third past the address's limit
        assert submit(client, email="victim@example.com").status_code == 303
    cookies = [session_data(client) for client in clients]
    with app.app_context():
        stored = set(db.session.execute(db.select(DataRequest.reference)).scalars())
        mails = db.session.query(MailMessage).count()
    assert len(stored) == 2 and mails == 2
    assert [sorted(cookie) for cookie in cookies] == [sorted(cookies[0])] * 3
    references = [cookie["intake_reference"] for cookie in cookies]
    assert all(re.fullmatch(r"DSR-[0-9A-Z]{4}-[0-9A-Z]{4}", ref or "") for ref in references)
    assert set(references[:2]) == stored and references[2] not in stored

    assert press_resend(clients[1], 4) == [202, 202, 202, 429]
    assert press_resend(clients[2], 4) == [202, 202, 202, 429]
    with app.app_context():
        assert db.session.query(MailMessage).count() == 2 + 3  # resends for a real request only


def test_a_response_that_sets_a_cookie_is_never_stored_by_a_cache(app):
    """The language switch works on every page: on a public one it re-issues a logged-in staff
    member's whole session cookie, which a shared cache must not keep for the next visitor."""
    staff = logged_in(app, ADMIN, "admin")
    switched = staff.get("/?lang=ja")
    assert switched.status_code == 200 and "Set-Cookie" in switched.headers
    assert switched.headers.get("Cache-Control") == "no-store"
    assert "_user_id" in session_data(staff)

    anonymous = app.test_client()
    for path in ("/", "/?lang=ja", "/?lang=en", "/healthz", "/api/v1/openapi.json"):
        response = anonymous.get(path)
        if "Set-Cookie" in response.headers:
            assert response.headers.get("Cache-Control") == "no-store", path
    plain = app.test_client().get("/")
    assert "Set-Cookie" not in plain.headers and "Cache-Control" not in plain.headers
