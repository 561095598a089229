"""Second security review: what the readable session cookie shows, what a cookie-setting response
may be cached as, what a failed login writes, and crafted ids in staff URLs."""
import base64
import json
import re
import time
import zlib
from datetime import timedelta

from helpers import csrf_token
from test_staff_access import AGENT, PASSWORD, logged_in

from app.extensions import db
from app.models import StaffUser, utcnow
from app.staff import totp


def session_data(client):
    """The session cookie as anyone who sees it can read it: Flask signs it, it does not hide it."""
    raw = client.get_cookie("session").value
    payload = raw.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(data) if raw.startswith(".") else data)


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/staff/account"), **fields})


def staff_row(app, email=AGENT):
    with app.app_context():
        found = db.session.execute(
            db.select(StaffUser).where(StaffUser.email == email)).scalar_one()
        db.session.expunge(found)
        return found


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
