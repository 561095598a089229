"""Second security review: what the readable session cookie shows, what a cookie-setting response
may be cached as, what a failed login writes, and crafted ids in staff URLs."""
import base64
import json
import re
import time
import zlib
from datetime import timedelta, timezone

from helpers import csrf_token, submit
from sqlalchemy import event
from test_staff_access import ADMIN, AGENT, PASSWORD, create_staff, logged_in, make_request

from app.extensions import db
from app.models import MAX_ROW_ID, DataRequest, MailMessage, StaffUser, utcnow
from app.staff import totp
from app.staff.actions import ACTIONS


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


def database_work(app, client, email):
    """What one failed login does to the database: each statement's verb and rows, commits."""
    token = csrf_token(client, "/staff/login")
    work = []
    with app.app_context():
        engine = db.engine

    def statement(conn, cursor, sql, params, context, executemany):
        verb = sql.split()[0].upper()
        # Rows written; a SELECT's rowcount is the rows it returned on PostgreSQL (-1 on
        # SQLite): reading the account row is no write, and costs the same either way.
        work.append((verb, 0 if verb == "SELECT" else max(cursor.rowcount, 0)))

    def commit(conn):
        work.append(("COMMIT", 0))

    event.listen(engine, "after_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        response = client.post("/staff/login", data={
            "email": email, "password": "wrong password here", "csrf_token": token})
    finally:
        event.remove(engine, "after_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert response.status_code == 401
    return work


def test_a_failed_login_writes_the_same_whether_or_not_the_address_has_an_account(make_app):
    """Timing too noisy to test in a few samples, so the like-for-like work is compared: a
    write only for real accounts cost a flush to disk (~2 ms) that unknown addresses did not."""
    app = make_app(RATE_LIMITS={"login": (1000, 600)})
    create_staff(app, ADMIN, "admin")
    create_staff(app, AGENT)
    client = app.test_client()
    known = database_work(app, client, AGENT)
    unknown = database_work(app, client, "nobody@craftos.net")
    assert ("UPDATE", 1) in known and ("COMMIT", 0) in known
    assert unknown == known
    for _ in range(3):
        database_work(app, client, AGENT)
    assert staff_row(app).failed_logins == 4  # the unknown address counted on nobody
    assert staff_row(app, ADMIN).failed_logins == 0
    database_work(app, client, AGENT)  # the fifth: locked
    assert staff_row(app).locked_until is not None
    assert database_work(app, client, AGENT) == known  # locked looks the same too
    assert staff_row(app, ADMIN).failed_logins == 0 and staff_row(app, ADMIN).locked_until is None
