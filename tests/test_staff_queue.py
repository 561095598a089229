"""The queue (filters, search, keyset pages, SLA badges), metrics and the CSV exports."""
import csv
import io
import re

from test_staff_access import ADMIN, AGENT, logged_in, make_request

from app.extensions import db
from app.models import AuditEvent, DataRequest, StaffUser

REF = re.compile(r"(?<=>)DSR-[0-9A-Z]{4}-[0-9A-Z]{4}(?=</a>)")  # links in the table


def references(client, query=""):
    return REF.findall(client.get(f"/staff/?{query}").get_data(as_text=True))


def reference_of(app, request_id):
    with app.app_context():
        return db.session.get(DataRequest, request_id).reference


def test_filters_and_search_narrow_the_queue(app):
    client = logged_in(app, AGENT)
    overdue = make_request(app, due_in_days=-2, request_type="access", regime="ccpa")
    soon = make_request(app, due_in_days=2, email="bob@example.com")
    later = make_request(app, due_in_days=25, request_type="export", regime="appi")
    closed = make_request(app, state="completed", due_in_days=5)
    ref = {i: reference_of(app, i) for i in (overdue, soon, later, closed)}
    assert references(client) == [ref[overdue], ref[soon], ref[later]]  # open, soonest first
    assert references(client, "order=-due") == [ref[later], ref[soon], ref[overdue]]
    assert references(client, "due=overdue") == [ref[overdue]]
    assert references(client, "due=7") == [ref[overdue], ref[soon]]
    assert references(client, "type=export") == [ref[later]]
    assert references(client, "regime=ccpa") == [ref[overdue]]
    assert references(client, "state=completed") == [ref[closed]]
    assert references(client, "q=bob@example.com") == [ref[soon]]
    assert references(client, "q=" + ref[later].lower().replace("-", "")) == [ref[later]]
    assert references(client, "assignee=me") == []
    assert references(client, "assignee=unassigned") == [ref[overdue], ref[soon], ref[later]]
    for junk in ("state=bogus&due=-1&type=%00", "assignee=%C2%B2", "due=" + "9" * 5000,
                 "assignee=" + "1" * 5000, "after=not-a-cursor", "after=2026-01-01_x"):
        assert client.get(f"/staff/?{junk}").status_code == 200, junk


def test_queue_shows_the_sla_in_words_and_no_personal_data(app):
    client = logged_in(app, AGENT)
    make_request(app, due_in_days=-2)
    make_request(app, due_in_days=2)
    make_request(app, due_in_days=20)
    page = client.get("/staff/").get_data(as_text=True)
    # Calendar days (UTC): a request due in 48 hours is due the day after tomorrow.
    assert "Overdue by 2 days" in page and "Due soon: 2 days left" in page
    assert "On track: 20 days left" in page
    assert "alice" not in page.lower()  # the queue lists references, not people


def test_keyset_pages_cover_every_request_once_in_due_order(make_app):
    app = make_app(STAFF_PAGE_SIZE=7)
    client = logged_in(app, AGENT)
    ids = [make_request(app, due_in_days=day % 9) for day in range(30)]  # many equal due days
    with app.app_context():
        expected = [r for r, in db.session.execute(
            db.select(DataRequest.reference).where(DataRequest.id.in_(ids))
            .order_by(DataRequest.due_at, DataRequest.id)).all()]
    seen, path = [], "/staff/"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += REF.findall(html)
        match = re.search(r'href="([^"]+)" rel="next"', html)
        path = match.group(1).replace("&amp;", "&") if match else None
    assert seen == expected


def test_metrics_page_draws_svg_charts_without_inline_style(app):
    client = logged_in(app, ADMIN, "admin")
    make_request(app, due_in_days=-1)
    make_request(app, state="completed", due_in_days=3, request_type="access")
    response = client.get("/staff/metrics")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("<svg") == 3
    assert " style=" not in html and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "Median days to close" in html and "Overdue" in html


def test_register_export_lists_every_request_without_names_or_emails(app):
    client = logged_in(app, ADMIN, "admin")
    for day in range(5):
        make_request(app, due_in_days=day, details="=HYPERLINK(\"x\")")
    response = client.get("/staff/export/register.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "reference" and len(rows) == 6
    assert "alice" not in response.get_data(as_text=True).lower()


def test_audit_export_verifies_the_chain_and_flags_tampering(app):
    client = logged_in(app, ADMIN, "admin")
    request_id = make_request(app)
    page = f"/staff/requests/{request_id}"
    from helpers import csrf_token
    client.post(f"{page}/note", data={"csrf_token": csrf_token(client, page),
                                      "note": "=cmd|' /C calc'!A0"})
    response = client.get(f"{page}/audit.csv")
    assert response.headers["X-Audit-Chain"] == "verified"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][3] == "verified" and [r[3] for r in rows[2:]] == ["submitted", "note"]
    assert rows[-1][6].startswith("'=")  # a formula is exported as text
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.request_id == request_id, AuditEvent.seq == 1)).scalar_one()
        event.actor = "someone-else"
        db.session.commit()
    response = client.get(f"{page}/audit.csv")
    assert response.headers["X-Audit-Chain"] == "broken"
    assert "BROKEN" in response.get_data(as_text=True)


def test_admin_sees_the_assign_list_agent_does_not(app):
    agent = logged_in(app, AGENT)
    admin = logged_in(app, ADMIN, "admin")
    request_id = make_request(app)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(StaffUser)).scalar() == 2
    assert 'id="assignee"' in admin.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    assert 'id="assignee"' not in agent.get(f"/staff/requests/{request_id}").get_data(
        as_text=True)
