"""The admin pages: staff accounts and API keys, managed from the console by admins only."""
import logging
import re
from datetime import timedelta

import pytest
from api_support import bearer
from browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, screenshot, sync_playwright
from helpers import csrf_token
from test_staff_access import (
    ADMIN,
    AGENT,
    PASSWORD,
    create_staff,
    logged_in,
    login,
    make_request,
    staff_row,
)

from app.audit import verify_admin_chain, verify_chain
from app.extensions import db
from app.models import AdminEvent, ApiKey, AuditEvent, DataRequest, StaffUser, utcnow
from app.staff import admin as admin_pages
from scripts.devredis import free_port

STAFF_PAGE, KEYS_PAGE = "/staff/admin/staff", "/staff/admin/api-keys"
PLAINTEXT = re.compile(r"dsr_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def staff_id(app, email):
    with app.app_context():
        return db.session.execute(
            db.select(StaffUser.id).where(StaffUser.email == email)).scalar_one()


def post(client, path, page=STAFF_PAGE, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **fields})


def admin_routes(app, target_id):
    """Every (method, path) under /staff/admin from the url map, ids filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff/admin/"):
            path = re.sub(r"<int:\w+>", str(target_id), rule.rule)
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def make_key_on_the_page(client, name="Acme CMP", scopes=("submit", "read")):
    response = post(client, KEYS_PAGE, KEYS_PAGE, name=name, scopes=list(scopes))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, PLAINTEXT.search(response.get_data(as_text=True)).group(0)


# --- who may open the pages -----------------------------------------------------------------

def test_agent_gets_403_on_every_admin_route_and_changes_nothing(app):
    create_staff(app, ADMIN, "admin")
    agent = logged_in(app, AGENT)
    target = staff_id(app, ADMIN)
    routes = admin_routes(app, target)
    assert len(routes) >= 10
    token = csrf_token(agent, "/staff/")
    for method, path in routes:
        response = agent.open(path, method=method, data={
            "csrf_token": token, "email": "new@craftos.net", "role": "agent", "name": "x",
            "scopes": "read"})
        assert response.status_code == 403, (method, path, response.status_code)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(StaffUser.id))).scalar() == 2
        assert db.session.execute(db.select(db.func.count(ApiKey.id))).scalar() == 0
    row = staff_row(app, ADMIN)
    assert (row.role, row.active) == ("admin", True)


def test_anonymous_visitors_are_sent_to_the_login_page(app):
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    for method, path in admin_routes(app, 1):
        response = client.open(path, method=method, data={"csrf_token": token})
        if method == "GET":
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/staff/login?next=/staff/admin/")
        else:
            assert response.status_code == 401, (method, path)


def test_nav_links_to_the_admin_pages_are_shown_to_admins_only(app):
    agent = logged_in(app, AGENT).get("/staff/").get_data(as_text=True)
    admin = logged_in(app, ADMIN, "admin").get("/staff/").get_data(as_text=True)
    for page in (STAFF_PAGE, KEYS_PAGE):
        assert f'href="{page}"' in admin and page not in agent


def test_admin_forms_need_the_csrf_token(app):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    for method, path in admin_routes(app, staff_id(app, AGENT)):
        if method == "POST":
            response = admin.post(path, data={"email": "new@craftos.net", "role": "admin",
                                              "name": "x", "scopes": "read"})
            assert response.status_code == 400, path
    row = staff_row(app, AGENT)
    assert (row.role, row.active) == ("agent", True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(StaffUser.id))).scalar() == 2


# --- staff accounts -------------------------------------------------------------------------

def test_admin_creates_an_agent_who_can_then_log_in_with_the_password_shown_once(app):
    admin = logged_in(app, ADMIN, "admin")
    response = post(admin, STAFF_PAGE, email=" New.Agent@CraftOS.net ", role="agent")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    assert len(password) >= 12
    agent = app.test_client()
    assert login(agent, "new.agent@craftos.net", password).status_code == 302
    assert agent.get("/staff/").status_code == 200
    assert agent.get(STAFF_PAGE).status_code == 403  # an agent, as chosen
    listing = admin.get(STAFF_PAGE).get_data(as_text=True)
    assert "new.agent@craftos.net" in listing and password not in listing


def test_admin_can_set_the_initial_password_under_the_same_rules_as_the_cli(app):
    admin = logged_in(app, ADMIN, "admin")
    response = post(admin, STAFF_PAGE, email="boss@craftos.net", role="admin", password="short")
    assert response.status_code == 400
    assert "at least 12 characters" in response.get_data(as_text=True)
    response = post(admin, STAFF_PAGE, email="boss@craftos.net", role="admin",
                    password="a long enough password")
    assert response.status_code == 200
    assert "a long enough password" not in response.get_data(as_text=True)
    boss = app.test_client()
    assert login(boss, "boss@craftos.net", "a long enough password").status_code == 302
    assert boss.get(STAFF_PAGE).status_code == 200


def test_a_second_account_for_the_same_email_is_refused(app):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    response = post(admin, STAFF_PAGE, email=AGENT.upper(), role="admin")
    assert response.status_code == 409
    assert "already has an account" in response.get_data(as_text=True)
    assert staff_row(app, AGENT).role == "agent"


def test_bad_input_gets_a_4xx_with_words_not_a_500(app):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    agent_id = staff_id(app, AGENT)
    for path, fields in [(STAFF_PAGE, {"email": "not an email", "role": "agent"}),
                         (STAFF_PAGE, {"email": "x@craftos.net", "role": "owner"}),
                         (f"{STAFF_PAGE}/{agent_id}/role", {"role": "owner"})]:
        assert post(admin, path, **fields).status_code == 400, (path, fields)
    assert post(admin, f"{STAFF_PAGE}/999999/deactivate").status_code == 404
    assert post(admin, f"{KEYS_PAGE}/999999/revoke", KEYS_PAGE).status_code == 404


def test_admin_promotes_and_demotes_another_account(app):
    admin = logged_in(app, ADMIN, "admin")
    agent = logged_in(app, AGENT)
    agent_id = staff_id(app, AGENT)
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/role", role="admin").status_code == 302
    assert agent.get(STAFF_PAGE).status_code == 200  # from their next click
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/role", role="agent").status_code == 302
    assert agent.get(STAFF_PAGE).status_code == 403


def test_an_admin_cannot_demote_or_deactivate_themselves(app):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, "second.admin@craftos.net", "admin")  # not the last admin either way
    me = staff_id(app, ADMIN)
    for path, fields in [(f"{STAFF_PAGE}/{me}/role", {"role": "agent"}),
                         (f"{STAFF_PAGE}/{me}/deactivate", {})]:
        response = post(admin, path, **fields)
        assert response.status_code == 409, path
        assert "your own account" in response.get_data(as_text=True)
    row = staff_row(app, ADMIN)
    assert (row.role, row.active) == ("admin", True)
    assert admin.get(STAFF_PAGE).status_code == 200


def test_the_last_active_admin_is_never_demoted_or_deactivated(app, monkeypatch):
    """Two admins removing each other at the same moment: the second change is refused.

    The other admin's request (demoting this one) commits while this one is in flight.
    """
    admin = logged_in(app, ADMIN, "admin")
    other = "other.admin@craftos.net"
    create_staff(app, other, "admin")
    other_id = staff_id(app, other)
    real_lock = admin_pages.lock_admins

    def demoted_meanwhile():
        with db.engine.begin() as connection:
            connection.execute(db.update(StaffUser).where(StaffUser.email == ADMIN)
                               .values(role="agent"))
        real_lock()

    monkeypatch.setattr(admin_pages, "lock_admins", demoted_meanwhile)
    for path, fields in [(f"{STAFF_PAGE}/{other_id}/role", {"role": "agent"}),
                         (f"{STAFF_PAGE}/{other_id}/deactivate", {})]:
        with app.app_context():  # an admin again when the attempt starts
            db.session.execute(db.update(StaffUser).where(StaffUser.email == ADMIN)
                               .values(role="admin"))
            db.session.commit()
        response = post(admin, path, **fields)
        assert response.status_code == 409, path
        assert "last active admin" in response.get_data(as_text=True)
        row = staff_row(app, other)
        assert (row.role, row.active) == ("admin", True)


def test_deactivation_ends_the_open_session_and_reactivation_needs_a_new_login(app):
    admin = logged_in(app, ADMIN, "admin")
    agent = logged_in(app, AGENT)
    agent_id = staff_id(app, AGENT)
    assert agent.get("/staff/").status_code == 200
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/deactivate").status_code == 302
    response = agent.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    assert login(app.test_client(), AGENT).status_code == 401
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/reactivate").status_code == 302
    assert agent.get("/staff/").status_code == 302  # the old session stays ended
    assert login(agent, AGENT).status_code == 302
    assert agent.get("/staff/").status_code == 200


@pytest.mark.parametrize("way", ["page", "cli"])
def test_deactivation_hands_back_the_open_requests_on_their_audit_trails(app, way):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    agent_id = staff_id(app, AGENT)
    open_one = make_request(app, state="in_progress", assignee_id=agent_id)
    closed_one = make_request(app, state="completed", assignee_id=agent_id)
    if way == "page":
        response = post(admin, f"{STAFF_PAGE}/{agent_id}/deactivate")
        assert response.status_code == 302
        assert "1 open request(s) assigned to them are unassigned" in admin.get(
            STAFF_PAGE).get_data(as_text=True)
        actor = ADMIN
    else:
        result = app.test_cli_runner().invoke(args=["staff", "deactivate", AGENT])
        assert result.exit_code == 0 and "1 open request(s) unassigned" in result.output
        actor = "cli"
    with app.app_context():
        assert db.session.get(DataRequest, open_one).assignee_id is None
        assert db.session.get(DataRequest, closed_one).assignee_id == agent_id  # history stays
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.request_id == open_one)
            .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert (event.actor, event.action) == (actor, "assigned")
        assert event.reason == f"unassigned: {AGENT} was deactivated"
        assert verify_chain(db.session.get(DataRequest, open_one)).ok


def test_admin_unlocks_an_account_and_resets_its_second_factor(app):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    app.test_cli_runner().invoke(args=["staff", "totp", AGENT])
    agent_id = staff_id(app, AGENT)
    with app.app_context():
        row = db.session.get(StaffUser, agent_id)
        row.failed_logins, row.locked_until = 0, utcnow() + timedelta(minutes=15)
        db.session.commit()
    listing = admin.get(STAFF_PAGE).get_data(as_text=True)
    assert "TOTP on" in listing and "until " in listing
    assert login(app.test_client(), AGENT).status_code == 401  # locked
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/unlock").status_code == 302
    assert post(admin, f"{STAFF_PAGE}/{agent_id}/reset-totp").status_code == 302
    row = staff_row(app, AGENT)
    assert (row.locked_until, row.failed_logins, row.totp_secret) == (None, 0, None)
    response = login(app.test_client(), AGENT)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"


def test_every_change_is_recorded_on_the_admin_chain_and_logged_never_a_secret(app, caplog):
    admin = logged_in(app, ADMIN, "admin")
    me = f"staff:{staff_id(app, ADMIN)}"
    caplog.set_level(logging.WARNING, logger="app.staff.admin")
    response = post(admin, STAFF_PAGE, email="new@craftos.net", role="agent")
    password = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    new = f"staff:{staff_id(app, 'new@craftos.net')}"
    new_id = new.split(":")[1]
    for change in ("unlock", "reset-totp", "deactivate", "reactivate"):
        post(admin, f"{STAFF_PAGE}/{new_id}/{change}")
    post(admin, f"{STAFF_PAGE}/{new_id}/role", role="admin")
    _, key = make_key_on_the_page(admin)
    post(admin, f"{KEYS_PAGE}/1/revoke", KEYS_PAGE)
    expected = [
        ("cli", "created staff", me, "role admin"),  # logged_in() made the admin on the CLI
        (me, "created staff", new, "role agent"), (me, "unlocked staff", new, None),
        (me, "reset second factor of staff", new, None), (me, "deactivated staff", new, None),
        (me, "reactivated staff", new, None), (me, "made admin", new, None),
        (me, "created api key", "api_key:1", "scopes read,submit"),
        (me, "revoked api key", "api_key:1", None)]
    with app.app_context():
        events = db.session.execute(db.select(AdminEvent).order_by(AdminEvent.seq)).scalars()
        assert [(e.actor, e.action, e.target, e.detail) for e in events] == expected
        assert verify_admin_chain().ok and verify_admin_chain().events == len(expected)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.staff.admin"]
    assert lines == [f"admin {actor}: {action} {target}" + (f" ({detail})" if detail else "")
                     for actor, action, target, detail in expected[1:]]
    assert not any(secret in caplog.text for secret in (password, key, "new@craftos.net"))
    page = admin.get("/staff/admin/log").get_data(as_text=True)
    assert "Chain intact: 9 entries checked." in page and "revoked api key" in page
    assert password not in page and key not in page


def test_a_refused_change_leaves_no_event(app):
    admin = logged_in(app, ADMIN, "admin")
    me = staff_id(app, ADMIN)
    assert post(admin, f"{STAFF_PAGE}/{me}/deactivate").status_code == 409
    assert post(admin, STAFF_PAGE, email=ADMIN, role="agent").status_code == 409
    with app.app_context():
        actions = db.session.execute(db.select(AdminEvent.action)).scalars().all()
        assert actions == ["created staff"]  # the admin's own account, made on the CLI


def test_cli_changes_join_the_chain_and_tampering_is_found(app):
    create_staff(app, AGENT)  # through `flask staff create`
    runner = app.test_cli_runner()
    assert runner.invoke(args=["staff", "deactivate", AGENT]).exit_code == 0
    assert runner.invoke(args=["api-key", "create", "Acme", "--scope", "read"]).exit_code == 0
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        events = db.session.execute(db.select(AdminEvent).order_by(AdminEvent.seq)).scalars()
        assert [(e.actor, e.action) for e in events] == [
            ("cli", "created staff"), ("cli", "deactivated staff"), ("cli", "created api key")]
        # Someone with database access rewrites history: who deactivated the account.
        db.session.execute(db.update(AdminEvent).where(AdminEvent.seq == 2)
                           .values(actor="staff:99"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN admin: admin event #2 (deactivated staff" in result.output
    with app.app_context():
        db.session.execute(db.delete(AdminEvent).where(AdminEvent.seq == 2))
        db.session.commit()
        assert "admin event #2 is missing" in verify_admin_chain().problem


# --- API keys -------------------------------------------------------------------------------

def test_key_made_on_the_page_works_is_shown_once_and_revoking_it_gives_401(app):
    admin = logged_in(app, ADMIN, "admin")
    response, key = make_key_on_the_page(admin)
    assert response.headers["Cache-Control"] == "no-store"
    api = app.test_client()
    assert api.get("/api/v1/requests", headers=bearer(key)).status_code == 200
    listing = admin.get(KEYS_PAGE).get_data(as_text=True)
    assert "Acme CMP" in listing and key.split("_", 2)[2] not in listing
    with app.app_context():
        api_key = db.session.execute(db.select(ApiKey)).scalar_one()
        assert (api_key.scopes, api_key.created_by) == ("read,submit", ADMIN)
        assert api_key.last_used_at is not None
        key_id = api_key.id
    assert post(admin, f"{KEYS_PAGE}/{key_id}/revoke", KEYS_PAGE).status_code == 302
    assert api.get("/api/v1/requests", headers=bearer(key)).status_code == 401
    assert "revoked" in admin.get(KEYS_PAGE).get_data(as_text=True)


def test_key_scopes_follow_the_cli_rules(app):
    admin = logged_in(app, ADMIN, "admin")
    _, key = make_key_on_the_page(admin, scopes=("submit",))
    assert app.test_client().get("/api/v1/requests", headers=bearer(key)).status_code == 403
    for fields in ({"name": "No scopes"}, {"name": "Odd", "scopes": ["admin"]},
                   {"name": "", "scopes": ["read"]}):
        response = post(admin, KEYS_PAGE, KEYS_PAGE, **fields)
        assert response.status_code == 400, fields
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ApiKey.id))).scalar() == 1


@pytest.mark.parametrize("page", [STAFF_PAGE, KEYS_PAGE])
def test_admin_pages_need_no_inline_script_or_style(app, page):
    admin = logged_in(app, ADMIN, "admin")
    create_staff(app, AGENT)
    make_key_on_the_page(admin)
    response = admin.get(page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert " style=" not in html and "<script" not in html
    assert PASSWORD not in html


def test_in_a_browser_an_admin_adds_an_agent_and_a_key_under_the_strict_csp(app):
    start = sync_playwright()
    create_staff(app, ADMIN, "admin")
    port = free_port()
    with LiveServer(app, port) as server, start() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="en-GB").new_page()
            refused = []  # the CSP's complaints land in the console
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(server.url + "/staff/login")
            page.get_by_label("Email").fill(ADMIN)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("link", name="Staff accounts").click()
            page.get_by_label("Email").fill("new.agent@craftos.net")
            page.get_by_role("button", name="Create the account").click()
            password = page.locator("p.passphrase code").inner_text()
            page.get_by_role("link", name="API keys").click()
            page.get_by_label("Name (who will use it)").fill("Acme CMP")
            page.get_by_label(re.compile(r"^read —")).check()
            page.get_by_role("button", name="Create the key").click()
            key = page.locator("p.passphrase code").inner_text()
            screenshot(page, "20-staff-admin-api-key-created")
            page.get_by_role("link", name="Back to API keys").click()
            assert "Acme CMP" in page.locator("main").inner_text()
            assert refused == []
        finally:
            browser.close()
    assert login(app.test_client(), "new.agent@craftos.net", password).status_code == 302
    assert app.test_client().get("/api/v1/requests", headers=bearer(key)).status_code == 200
