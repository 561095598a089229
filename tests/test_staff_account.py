"""A staff member's own account page: password change and second factor, each proven and logged."""
import re
import time

from helpers import csrf_token
from test_staff_access import AGENT, PASSWORD, logged_in, login, staff_row

from app.audit import verify_admin_chain
from app.extensions import db
from app.models import AdminEvent
from app.staff import totp

NEW_PASSWORD = "a different long password"


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, "/staff/account"), **fields})


def own_events(app):
    with app.app_context():
        return db.session.execute(db.select(AdminEvent.action).where(
            AdminEvent.actor.like("staff:%")).order_by(AdminEvent.seq)).scalars().all()


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(app):
    me = logged_in(app, AGENT)
    elsewhere = app.test_client()
    assert login(elsewhere, AGENT).status_code == 302
    refused = post(me, "/staff/account/password", current="wrong password!!",
                   new=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert refused.status_code == 400 and b"not your current password" in refused.data
    assert staff_row(app).failed_logins == 1  # counts towards the lockout like a login
    for fields in ({"new": "short", "confirm": "short"},
                   {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
                   {"new": PASSWORD, "confirm": PASSWORD}):
        assert post(me, "/staff/account/password", current=PASSWORD, **fields).status_code == 400
    assert own_events(app) == []

    done = post(me, "/staff/account/password", current=PASSWORD, new=NEW_PASSWORD,
                confirm=NEW_PASSWORD)
    assert done.status_code == 302
    assert me.get("/staff/").status_code == 200          # this session continues
    assert elsewhere.get("/staff/").status_code == 302   # the other one is logged out
    assert login(app.test_client(), AGENT).status_code == 401
    assert login(app.test_client(), AGENT, NEW_PASSWORD).status_code == 302
    assert own_events(app) == ["changed own password"]
    with app.app_context():
        assert verify_admin_chain().ok


def test_setting_up_the_second_factor_needs_the_password_and_a_code_from_the_app(app):
    me = logged_in(app, AGENT)
    assert post(me, "/staff/account/totp/start", **{"confirm-current": "nope"}).status_code == 400
    assert post(me, "/staff/account/totp/start", **{"confirm-current": PASSWORD}).status_code == 302
    page = me.get("/staff/account").get_data(as_text=True)
    secret = re.search(r'<p class="passphrase"><code>([A-Z2-7]+)</code>', page).group(1)
    assert "otpauth://totp/" in page
    assert staff_row(app).totp_secret is None  # nothing is on until a code proves the app has it

    assert post(me, "/staff/account/totp/confirm", code="000000").status_code in (400, 302)
    code = totp.code_at(secret, totp.counter_for(time.time()))
    if staff_row(app).totp_secret is None:
        assert post(me, "/staff/account/totp/confirm", code=code).status_code == 302
    assert staff_row(app).totp_secret == secret
    assert me.get("/staff/").status_code == 200

    # From now on a login asks for a code.
    response = login(app.test_client(), AGENT)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/login/totp"

    assert post(me, "/staff/account/totp/remove", **{"confirm-current": "nope"}).status_code == 400
    assert staff_row(app).totp_secret == secret
    assert post(me, "/staff/account/totp/remove",
                **{"confirm-current": PASSWORD}).status_code == 302
    assert staff_row(app).totp_secret is None
    assert own_events(app) == ["set own second factor", "removed own second factor"]


def test_the_account_pages_need_a_login_and_the_csrf_token(app):
    anonymous = app.test_client()
    assert anonymous.get("/staff/account").status_code == 302
    me = logged_in(app, AGENT)
    page = me.get("/staff/account")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert " style=" not in page.get_data(as_text=True)
    assert me.post("/staff/account/password", data={
        "current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    assert login(app.test_client(), AGENT).status_code == 302  # unchanged
