"""Ids from URLs, forms and the queue's cursor: one bound (MAX_ROW_ID) everywhere, a number
beyond it or in another script is "not found" or ignored, never a 500."""
import re
from datetime import timedelta, timezone

from helpers import csrf_token
from test_staff_access import ADMIN, logged_in, make_request

from app.extensions import db
from app.models import MAX_ROW_ID, DataRequest, StaffUser
from app.staff.actions import ACTIONS


def int_urls(app, number):
    """Every (method, path) of the url map whose rule takes an <int:...>, filled with `number`."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", str(number), rule.rule)
        paths = [path.replace("<action>", name) for name in ACTIONS] if "<action>" in path \
            else [path]
        assert all("<" not in p for p in paths), rule.rule  # a new placeholder: teach this walk
        urls += [(method, p) for p in paths for method in sorted(rule.methods - {"HEAD",
                                                                                 "OPTIONS"})]
    return urls


def test_an_id_too_large_for_the_database_is_not_found_in_every_route(app):
    admin = logged_in(app, ADMIN, "admin")
    token = csrf_token(admin, "/staff/")
    urls = int_urls(app, 10 ** 19)
    assert {"/staff/requests/10000000000000000000", "/staff/admin/staff/10000000000000000000/"
            "unlock", "/staff/admin/api-keys/10000000000000000000/revoke"} <= {p for _, p in urls}
    for number in (10 ** 19, 99999999999999999999, 2 ** 31):
        for method, path in int_urls(app, number):
            response = admin.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path, response.status_code)
    assert admin.get("/staff/requests/0").status_code == 404  # in range, no such row


def test_a_crafted_queue_cursor_is_ignored_not_a_500(app):
    admin = logged_in(app, ADMIN, "admin")
    make_request(app)
    for after in ("2026-01-01_99999999999999999999999", "2026-01-01_2147483648x", "x_1", "_",
                  "2026-01-01T00:00:00_-1", "2026-01-01_\u00b2", "2026-01-01T00:00:00+05:00_1"):
        assert admin.get("/staff/", query_string={"after": after}).status_code == 200, after


def test_a_queue_cursor_in_another_zone_means_the_same_moment(app):
    admin = logged_in(app, ADMIN, "admin")
    first, second = make_request(app, due_in_days=5), make_request(app, due_in_days=6)
    with app.app_context():
        due = db.session.get(DataRequest, first).due_at
    utc = f"{due.isoformat()}_{first}"
    shifted = f"{due.astimezone(timezone(timedelta(hours=9))).isoformat()}_{first}"
    naive = f"{due.replace(tzinfo=None).isoformat()}_{first}"
    pages = [admin.get("/staff/", query_string={"after": after}).get_data(as_text=True)
             for after in (utc, shifted, naive)]
    with app.app_context():
        references = [db.session.get(DataRequest, i).reference for i in (first, second)]
    for page in pages:
        assert references[1] in page and references[0] not in page


def test_ids_past_nine_digits_work_like_any_other_up_to_the_largest(app):
    """The route converter, the queue's cursor and filter and the assign form share one bound:
    a ten-digit id below it is an ordinary id everywhere (the forms once stopped at nine)."""
    admin = logged_in(app, ADMIN, "admin")
    staff, first = 2_000_000_000, 1_500_000_000
    with app.app_context():
        db.session.add(StaffUser(id=staff, email="far.agent@craftos.net", password_hash="x"))
        db.session.commit()
    make_request(app, due_in_days=5, id=first)
    second = make_request(app, due_in_days=6)
    page = f"/staff/requests/{first}"
    response = admin.post(f"{page}/assign", data={"csrf_token": csrf_token(admin, page),
                                                  "assignee": str(staff)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(DataRequest, first).assignee_id == staff
        due = db.session.get(DataRequest, first).due_at
        references = [db.session.get(DataRequest, i).reference for i in (first, second)]
    mine = admin.get("/staff/", query_string={"assignee": str(staff)}).get_data(as_text=True)
    assert references[0] in mine and references[1] not in mine
    after = admin.get("/staff/", query_string={"after": f"{due.isoformat()}_{first}"})
    assert references[1] in after.get_data(as_text=True)
    assert references[0] not in after.get_data(as_text=True)
    assert admin.get(f"/staff/requests/{MAX_ROW_ID}").status_code == 404  # in range, no row
