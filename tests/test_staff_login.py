"""Logging in to the console: lockout without enumeration, rate limit, TOTP, expiry, logout, and
the same database writes for a failure whether or not the address has an account."""
import re
import statistics
import time
from datetime import timedelta

from helpers import csrf_token
from sqlalchemy import event
from test_staff_access import ADMIN, AGENT, PASSWORD, create_staff, logged_in, login
from test_staff_admin import staff_row

from app.extensions import db
from app.models import StaffUser, utcnow
from app.staff import totp


def attempt(client, email, password):
    response = login(client, email, password)
    page = response.get_data(as_text=True).replace(email, "EMAIL")
    return response.status_code, re.sub(r'value="[^"]+" id="csrf_token"|csrf_token" type="hidden" '
                                        r'value="[^"]+"', "TOKEN", page)


def test_five_failures_lock_the_account_even_for_the_right_password(app):
    create_staff(app, AGENT)
    client = app.test_client()
    for _ in range(5):
        assert login(client, AGENT, "wrong password here").status_code == 401
    with app.app_context():
        row = db.session.execute(db.select(StaffUser)).scalar_one()
        assert row.locked_until is not None and row.locked_until > utcnow()
    assert login(client, AGENT).status_code == 401  # right password, still locked
    with app.app_context():
        row = db.session.execute(db.select(StaffUser)).scalar_one()
        row.locked_until = utcnow() - timedelta(seconds=1)  # the 15 minutes have passed
        db.session.commit()
    assert login(client, AGENT).status_code == 302


def test_unknown_email_locked_account_and_wrong_password_look_the_same(app):
    create_staff(app, AGENT)
    client = app.test_client()
    wrong = attempt(client, AGENT, "wrong password here")
    unknown = attempt(client, "nobody@craftos.net", "wrong password here")
    assert wrong == unknown
    for _ in range(4):
        attempt(client, AGENT, "wrong password here")
    assert attempt(client, AGENT, PASSWORD) == unknown  # locked looks like a wrong password


def test_failures_take_the_same_time_for_unknown_and_known_emails(make_app):
    app = make_app(RATE_LIMITS={"login": (1000, 600)}, STAFF_LOCKOUT_FAILURES=1000)
    create_staff(app, AGENT)
    client = app.test_client()

    times = {AGENT: [], "nobody@craftos.net": []}
    for _ in range(9):  # interleaved, so a busy machine slows both alike
        for email, samples in times.items():
            start = time.perf_counter()
            login(client, email, "wrong password here")
            samples.append(time.perf_counter() - start)
    known, unknown = (statistics.median(samples) for samples in times.values())
    # scrypt dominates both; a skipped hash check would make the unknown case far faster.
    assert 0.6 < unknown / known < 1.6, (known, unknown)


def test_login_is_rate_limited_per_client(make_app):
    app = make_app(RATE_LIMITS={"login": (3, 600)})
    client = app.test_client()
    codes = [login(client, "nobody@craftos.net", "x" * 12).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_totp_is_asked_after_the_password_and_codes_work_once(app):
    create_staff(app, AGENT)
    output = app.test_cli_runner().invoke(args=["staff", "totp", AGENT]).output
    secret = output.split("secret: ")[1].split()[0]
    client = app.test_client()
    response = login(client, AGENT)
    assert response.headers["Location"] == "/staff/login/totp"
    assert client.get("/staff/").status_code == 302  # not logged in yet
    token = csrf_token(client, "/staff/login/totp")
    assert client.post("/staff/login/totp", data={"code": "000000", "csrf_token": token}
                       ).status_code == 401 or totp.code_at(secret, totp.counter_for(time.time())
                                                            ) == "000000"
    code = totp.code_at(secret, totp.counter_for(time.time()))
    response = client.post("/staff/login/totp", data={"code": code, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    # The same code again, from another browser: refused (replay).
    other = app.test_client()
    login(other, AGENT)
    response = other.post("/staff/login/totp", data={
        "code": code, "csrf_token": csrf_token(other, "/staff/login/totp")})
    assert response.status_code == 401


def test_totp_matches_the_rfc_6238_test_vector():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890" in base32
    assert totp.code_at(secret, totp.counter_for(59)) == "287082"
    assert totp.code_at(secret, totp.counter_for(1111111109)) == "081804"
    assert totp.matching_counter(secret, "081804", 1111111109 + 30) is not None
    assert totp.matching_counter(secret, "081804", 1111111109 + 90) is None
    assert totp.matching_counter(secret, "²²²²²²", 1111111109) is None  # digits, not ASCII


def test_idle_session_expires(app):
    client = logged_in(app, AGENT)
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as session:
        session["staff_seen"] = time.time() - app.config["STAFF_IDLE_SECONDS"] - 1
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/staff/").status_code == 302  # and it stays logged out


def test_logout_is_a_post_and_ends_the_session(app):
    client = logged_in(app, AGENT)
    assert client.get("/staff/logout").status_code == 405
    response = client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302


def test_password_change_logs_out_existing_sessions(app):
    client = logged_in(app, AGENT)
    result = app.test_cli_runner().invoke(
        args=["staff", "password", AGENT, "--password-stdin"], input="another long password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/staff/").status_code == 302


def test_passwords_are_stored_as_scrypt_hashes(app):
    create_staff(app, AGENT)
    with app.app_context():
        row = db.session.execute(db.select(StaffUser)).scalar_one()
        assert row.password_hash.startswith("scrypt:") and PASSWORD not in row.password_hash


def test_login_redirect_stays_inside_the_console(app):
    create_staff(app, AGENT)
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": AGENT, "password": PASSWORD,
                                                  "next": "https://evil.example/",
                                                  "csrf_token": token})
    assert response.headers["Location"] == "/staff/"


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
    assert staff_row(app, AGENT).failed_logins == 4  # the unknown address counted on nobody
    assert staff_row(app, ADMIN).failed_logins == 0
    database_work(app, client, AGENT)  # the fifth: locked
    assert staff_row(app, AGENT).locked_until is not None
    assert database_work(app, client, AGENT) == known  # locked looks the same too
    assert staff_row(app, ADMIN).failed_logins == 0 and staff_row(app, ADMIN).locked_until is None
