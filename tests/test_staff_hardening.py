"""Holes a review found in the console, each closed: the second factor's lockout, logout,
the login's `next`, assigning someone else's request, and an admin's own second factor."""
import time
from datetime import timedelta

from helpers import csrf_token
from test_staff_access import ADMIN, AGENT, create_staff, logged_in, login, make_request
from test_staff_admin import STAFF_PAGE, post, staff_id, staff_row

from app.extensions import db
from app.models import DataRequest, StaffUser, utcnow
from app.staff import totp

OTHER_AGENT = "other.agent@craftos.net"


def enable_totp(app, email):
    output = app.test_cli_runner().invoke(args=["staff", "totp", email]).output
    return output.split("secret: ")[1].split()[0]


def wrong_code(secret):
    """A six-digit code the authenticator would not show around now."""
    return next(code for code in ("000000", "111111", "222222", "333333")
                if totp.matching_counter(secret, code, time.time()) is None)


def test_password_logins_between_wrong_codes_do_not_reset_the_lockout(make_app):
    app = make_app(RATE_LIMITS={"login": (1000, 600)})  # the account lockout, not the IP limit
    create_staff(app, AGENT)
    code = wrong_code(enable_totp(app, AGENT))
    limit = app.config["STAFF_LOCKOUT_FAILURES"]
    client = app.test_client()
    # Two rounds: a fresh password login after all but one of the allowed wrong codes.
    for wrong_codes in (limit - 1, 1):
        response = login(client, AGENT)
        assert response.headers["Location"] == "/staff/login/totp"
        for _ in range(wrong_codes):
            response = client.post("/staff/login/totp", data={
                "code": code, "csrf_token": csrf_token(client, "/staff/login/totp")})
            assert response.status_code == 401
    row = staff_row(app, AGENT)
    assert row.locked_until is not None and row.locked_until > utcnow()
    assert login(client, AGENT).status_code == 401  # right password, locked all the same


def test_wrong_codes_on_a_locked_account_do_not_extend_the_lock(make_app):
    app = make_app(RATE_LIMITS={"login": (1000, 600)})
    create_staff(app, AGENT)
    code = wrong_code(enable_totp(app, AGENT))
    client = app.test_client()
    assert login(client, AGENT).headers["Location"] == "/staff/login/totp"
    with app.app_context():  # locked by failures elsewhere while this code page stays open
        row = db.session.execute(db.select(StaffUser)).scalar_one()
        row.failed_logins, row.locked_until = 0, utcnow() + timedelta(minutes=5)
        db.session.commit()
        locked_until = row.locked_until
    for _ in range(app.config["STAFF_LOCKOUT_FAILURES"] + 1):
        response = client.post("/staff/login/totp", data={
            "code": code, "csrf_token": csrf_token(client, "/staff/login/totp")})
        assert response.status_code == 401
    row = staff_row(app, AGENT)
    assert (row.locked_until, row.failed_logins) == (locked_until, 0)  # as wrong passwords do


def test_a_copy_of_the_cookie_no_longer_works_after_logout(app):
    client = logged_in(app, AGENT)
    assert client.get("/staff/").status_code == 200
    copy = client.get_cookie("session").value
    response = client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 302
    client.set_cookie("session", copy)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_a_next_with_line_breaks_or_backslashes_goes_to_the_queue(app):
    create_staff(app, AGENT)
    for target in ("/staff/\r\nX-Evil: 1", "/staff/\\\\evil.example", "/staff/\x00"):
        client = app.test_client()
        response = client.post("/staff/login", data={
            "email": AGENT, "password": "correct horse battery staple", "next": target,
            "csrf_token": csrf_token(client, "/staff/login")})
        assert response.status_code == 302, repr(target)
        assert response.headers["Location"] == "/staff/", repr(target)
        assert "X-Evil" not in response.headers


def assign(client, request_id, assignee):
    page = f"/staff/requests/{request_id}"
    return client.post(f"{page}/assign", data={"csrf_token": csrf_token(client, page),
                                               "assignee": assignee})


def assignee_of(app, request_id):
    with app.app_context():
        return db.session.get(DataRequest, request_id).assignee_id


def test_an_agent_takes_free_requests_and_lets_go_of_their_own_but_not_of_others(app):
    agent = logged_in(app, AGENT)
    me = staff_id(app, AGENT)
    create_staff(app, OTHER_AGENT)
    other_id = staff_id(app, OTHER_AGENT)
    theirs = make_request(app, assignee_id=other_id)
    for assignee in ("", "me"):  # neither unassign nor take over
        response = assign(agent, theirs, assignee)
        assert response.status_code == 403, repr(assignee)
        assert "ask an admin" in response.get_data(as_text=True)
        assert assignee_of(app, theirs) == other_id
    free = make_request(app)
    # The page offers what the agent may do, and nothing that would be refused.
    assert "Assign to me" not in agent.get(f"/staff/requests/{theirs}").get_data(as_text=True)
    assert "Assign to me" in agent.get(f"/staff/requests/{free}").get_data(as_text=True)
    assert assign(agent, free, "me").status_code == 302
    assert assignee_of(app, free) == me
    assert "Let go of it" in agent.get(f"/staff/requests/{free}").get_data(as_text=True)
    assert assign(agent, free, "").status_code == 302
    assert assignee_of(app, free) is None


def test_an_admin_cannot_reset_their_own_second_factor_on_the_staff_page(app):
    admin = logged_in(app, ADMIN, "admin")
    me = staff_id(app, ADMIN)
    with app.app_context():  # set directly: `staff totp` would also end this session
        db.session.get(StaffUser, me).totp_secret = totp.new_secret()
        db.session.commit()
    assert f"{STAFF_PAGE}/{me}/reset-totp" not in admin.get(STAFF_PAGE).get_data(as_text=True)
    response = post(admin, f"{STAFF_PAGE}/{me}/reset-totp")
    assert response.status_code == 409
    assert "/staff/account" in response.get_data(as_text=True)
    assert staff_row(app, ADMIN).totp_secret is not None
    # Another account's factor is still theirs to reset.
    create_staff(app, AGENT)
    enable_totp(app, AGENT)
    agent_reset = f"{STAFF_PAGE}/{staff_id(app, AGENT)}/reset-totp"
    assert agent_reset in admin.get(STAFF_PAGE).get_data(as_text=True)
    assert post(admin, agent_reset).status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(StaffUser.totp_secret).where(
            StaffUser.email == AGENT)).scalar_one() is None
