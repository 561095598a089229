"""Rotating SECRET_KEY: with the old key in SECRET_KEY_FALLBACKS, links already mailed, staff
sessions and the keyed email hashes of minimised requests keep working; without it they do not."""
import hmac
import re

from helpers import submit
from test_staff_access import AGENT, logged_in, make_request

from app.extensions import db
from app.mail import bodies
from app.models import DataRequest, MailMessage

OLD, NEW = "test-secret-key-not-for-production", "a-brand-new-secret-key-for-rotation"
VERIFY_PATH = re.compile(r"http://portal\.test(/verify/[^\s\"<]+)")


def mailed_verify_path(app):
    with app.app_context():
        body = bodies(db.session.execute(db.select(MailMessage)).scalar_one())[0]
    return VERIFY_PATH.search(body).group(1)


def test_links_mailed_before_a_rotation_work_only_while_the_old_key_is_a_fallback(make_app):
    before = make_app()
    assert before.config["SECRET_KEY"] == OLD
    assert submit(before.test_client()).status_code == 303
    path = mailed_verify_path(before)

    rotated = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    page = rotated.test_client().get(path)
    assert page.status_code == 200 and b"Yes, this is my request" in page.data

    forgotten = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[])
    assert forgotten.test_client().get(path).status_code == 400


def test_new_links_are_signed_with_the_new_key(make_app):
    rotated = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    assert submit(rotated.test_client()).status_code == 303
    path = mailed_verify_path(rotated)
    assert make_app(SECRET_KEY=NEW).test_client().get(path).status_code == 200
    assert make_app(SECRET_KEY=OLD).test_client().get(path).status_code == 400


def test_a_staff_session_survives_the_rotation(make_app):
    before = make_app()
    agent = logged_in(before, AGENT)
    cookie_name = before.config["SESSION_COOKIE_NAME"]
    cookie = agent.get_cookie(cookie_name).value

    for fallbacks, expected in (([OLD], 200), ([], 302)):
        client = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=fallbacks).test_client()
        client.set_cookie(cookie_name, cookie)
        assert client.get("/staff/").status_code == expected, fallbacks


def test_staff_search_finds_requests_minimised_under_the_old_key(make_app):
    before = make_app()
    request_id = make_request(before, state="completed", email="carol@example.com")
    with before.app_context():
        data_request = db.session.get(DataRequest, request_id)
        data_request.email_hash = hmac.new(OLD.encode(), b"carol@example.com",
                                           "sha256").hexdigest()
        data_request.email = None
        reference = data_request.reference
        db.session.commit()

    rotated = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    agent = logged_in(rotated, AGENT)
    page = agent.get("/staff/?state=all&q=carol@example.com").get_data(as_text=True)
    assert reference in page
