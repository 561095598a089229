"""Who may open what in the staff console: every /staff URL, walked anonymously, as an agent
and as an admin. Also the shared helpers the other staff tests import."""
import re
from datetime import timedelta

import pytest
from helpers import csrf_token

from app.audit import record
from app.extensions import db
from app.models import DataRequest, StaffUser, utcnow
from app.staff.actions import ACTIONS

PASSWORD = "correct horse battery staple"
AGENT, ADMIN = "agent@craftos.net", "admin@craftos.net"


def staff_row(app, email=AGENT):
    """The staff member's row as stored now, detached from the session."""
    with app.app_context():
        row = db.session.execute(db.select(StaffUser).where(StaffUser.email == email)).scalar_one()
        db.session.expunge(row)
        return row


def create_staff(app, email, role="agent", password=PASSWORD):
    result = app.test_cli_runner().invoke(
        args=["staff", "create", email, "--role", role, "--password-stdin"], input=password + "\n")
    assert result.exit_code == 0, result.output
    return email


def login(client, email, password=PASSWORD):
    token = csrf_token(client, "/staff/login")
    return client.post("/staff/login", data={"email": email, "password": password,
                                             "csrf_token": token})


def logged_in(app, email, role="agent"):
    create_staff(app, email, role)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def make_request(app, request_type="deletion", state="verified", regime="gdpr", due_in_days=20,
                 email="alice@example.com", **fields):
    """A confirmed request written directly, with its audit trail started like the portal's."""
    with app.app_context():
        now = utcnow()
        data_request = DataRequest(
            request_type=request_type, state=state, region={"gdpr": "eu", "ccpa": "california",
                                                            "us_state": "us_other",
                                                            "appi": "japan"}.get(regime, "other"),
            regime=regime, email=email, name="Alice Example", received_at=now - timedelta(days=3),
            verified_at=None if state == "pending_verification" else now - timedelta(days=3),
            due_at=now + timedelta(days=due_in_days), **fields)
        if state in ("completed", "rejected", "cancelled", "expired"):
            data_request.closed_at = now
        db.session.add(data_request)
        db.session.flush()
        record(data_request, "subject", "submitted", to_state=state)
        db.session.commit()
        return data_request.id


def staff_urls(app, request_id):
    """Every /staff URL from the url map, with each action spelled out: (method, path)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if "<action>" in rule.rule:
                urls += [(method, f"/staff/requests/{request_id}/{name}") for name in ACTIONS]
            else:
                urls.append((method, re.sub(r"<int:\w+>", str(request_id), rule.rule)))
    return urls


PUBLIC = {"/staff/login", "/staff/login/totp"}
ADMIN_ONLY = {"/staff/metrics", "/staff/export/register.csv"}


def is_admin_only(path):
    return path in ADMIN_ONLY or path.endswith("/audit.csv") or path.startswith("/staff/admin/")


def test_every_staff_url_refuses_anonymous_visitors(app):
    request_id = make_request(app)
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    urls = staff_urls(app, request_id)
    assert len(urls) >= 15
    for method, path in urls:
        response = client.open(path, method=method, data={"csrf_token": token, "reason": "x",
                                                          "note": "x"})
        body = response.get_data(as_text=True)
        assert response.status_code != 500, path
        assert response.headers["Cache-Control"] == "no-store", path
        if path in PUBLIC:
            assert "alice" not in body.lower(), path
            continue
        assert "alice" not in body.lower(), path
        if method == "GET":
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"].startswith("/staff/login"), path
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)
    with app.app_context():
        # Nothing an anonymous POST did reached the request or its audit trail.
        data_request = db.session.get(DataRequest, request_id)
        assert (data_request.state, data_request.audit_count) == ("verified", 1)


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_each_role_opens_exactly_its_pages(app, role):
    request_id = make_request(app)
    client = logged_in(app, f"{role}@craftos.net", role)
    for method, path in staff_urls(app, request_id):
        if method != "GET" or path in PUBLIC:
            continue
        response = client.get(path)
        assert response.status_code != 500, path
        if role == "agent" and is_admin_only(path):
            assert response.status_code == 403, path
        elif path.rsplit("/", 1)[-1] in ACTIONS:  # an action's address: the request's page
            assert response.status_code == 303, path
            assert response.headers["Location"] == f"/staff/requests/{request_id}"
        else:
            assert response.status_code == 200, (path, response.status_code)
        assert response.headers["Cache-Control"] == "no-store"
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            # The CSP forbids inline style and script: the page must not need them.
            assert " style=" not in html and "<script" not in html, path


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_every_action_answers_each_role_without_a_server_error(app, role):
    client = logged_in(app, f"{role}@craftos.net", role)
    for name in ACTIONS:
        request_id = make_request(app)
        page = f"/staff/requests/{request_id}"
        response = client.post(f"{page}/{name}", data={
            "csrf_token": csrf_token(client, page), "reason": "checked with the person",
            "note": "called them", "assignee": "me", "step_id": "999999",
            "new_due": (utcnow() + timedelta(days=40)).date().isoformat()})
        assert response.status_code in (302, 400, 404, 409, 422), (name, response.status_code)


def test_agent_cannot_assign_to_someone_else_but_admin_can(app):
    request_id = make_request(app)
    agent = logged_in(app, AGENT)
    admin = logged_in(app, ADMIN, "admin")
    page = f"/staff/requests/{request_id}"
    from app.models import StaffUser
    with app.app_context():
        admin_id = db.session.execute(db.select(StaffUser.id).where(
            StaffUser.email == ADMIN)).scalar_one()
    response = agent.post(f"{page}/assign", data={"csrf_token": csrf_token(agent, page),
                                                  "assignee": str(admin_id)})
    assert response.status_code == 403
    response = admin.post(f"{page}/assign", data={"csrf_token": csrf_token(admin, page),
                                                  "assignee": str(admin_id)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(DataRequest, request_id).assignee_id == admin_id


def test_actions_need_the_csrf_token(app):
    request_id = make_request(app)
    client = logged_in(app, AGENT)
    response = client.post(f"/staff/requests/{request_id}/approve", data={})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(DataRequest, request_id).state == "verified"
