"""What the pages and the verify email promise about time is what the settings make true: a
link resent near the unconfirmed-expiry says when it really stops working and works until
then; an expired request's link says so in words; durations follow VERIFY_TTL_SECONDS,
UNVERIFIED_EXPIRY_DAYS and PROMISE_DAYS (real Redis, real SQLite)."""
from datetime import timedelta

from helpers import csrf_token, submit
from test_links import verify_path

from app.extensions import db
from app.mail import bodies
from app.models import DataRequest, MailMessage, utcnow
from workflows.expiry import expire_unverified


def newest_verify_text(app):
    with app.app_context():
        message = db.session.execute(
            db.select(MailMessage).where(MailMessage.kind == "verify")
            .order_by(MailMessage.id.desc())).scalars().first()
        return " ".join(bodies(message)[0].split())


def submitted_days_ago(app, age):
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        data_request.received_at = utcnow() - age
        db.session.commit()


def resend(client):
    token = csrf_token(client, "/requests/sent")
    assert client.post("/requests/resend", data={"csrf_token": token}).status_code == 202


def test_a_link_resent_near_expiry_names_its_real_deadline_and_works_until_it(client, app):
    submit(client, timezone="Asia/Tokyo")
    submitted_days_ago(app, timedelta(days=6, hours=23))  # the request closes in an hour
    resend(client)
    text = newest_verify_text(app)
    assert "24 hours" not in text
    assert "The link works once, until" in text and "Japan Time" in text  # the person's zone
    path = verify_path(app)
    with app.app_context():
        assert expire_unverified() == 0
    assert client.get(path).status_code == 200  # works up to the deadline it names

    with app.app_context():  # the hourly sweep after that deadline
        assert expire_unverified(utcnow() + timedelta(hours=1, minutes=1)) == 1
    page = client.get(path)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This request has expired" in html and "make a new request" in html
    assert "not valid" not in html


def test_a_link_far_from_expiry_keeps_its_full_lifetime(client, app):
    submit(client)
    text = newest_verify_text(app)
    assert "The link works once and for 24 hours." in text
    assert "deleted after 7 days." in text


def test_an_expired_requests_old_link_offers_no_new_link_but_says_what_happened(client, app):
    submit(client)
    path = verify_path(app)
    submitted_days_ago(app, timedelta(days=8))
    # Not yet swept: the request is past its time all the same.
    page = client.get(path)
    assert page.status_code == 410 and "This request has expired" in page.get_data(as_text=True)
    token = csrf_token(client, "/requests/sent")
    answer = client.post(path, data={"csrf_token": token})
    assert answer.status_code == 410
    with app.app_context():
        assert db.session.execute(db.select(DataRequest.state)).scalar_one() == \
            "pending_verification"  # nothing confirmed
    resend(client)  # silent, and no dead link is mailed
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(MailMessage.id))).scalar() == 1


def test_a_half_hour_link_is_promised_in_minutes(make_app):
    app = make_app(VERIFY_TTL_SECONDS=1800)
    client = app.test_client()
    response = submit(client)
    assert response.status_code == 303
    sent = " ".join(client.get("/requests/sent").get_data(as_text=True).split())
    assert "The link works once and for 30 minutes." in sent
    assert "The link works once and for 30 minutes." in newest_verify_text(app)
    assert "0 hours" not in sent + newest_verify_text(app)


def test_one_hour_is_singular_and_the_day_counts_follow_the_settings(make_app):
    app = make_app(VERIFY_TTL_SECONDS=3600, UNVERIFIED_EXPIRY_DAYS=1, PROMISE_DAYS=20)
    client = app.test_client()
    submit(client)
    sent = " ".join(client.get("/requests/sent").get_data(as_text=True).split())
    assert "The link works once and for 1 hour." in sent
    assert "not confirmed within 1 day are closed" in sent
    mail = newest_verify_text(app)
    assert "for 1 hour." in mail and "deleted after 1 day." in mail
    index = " ".join(client.get("/").get_data(as_text=True).split())
    assert "We answer within 20 days" in index and "30 days" not in index
    form = " ".join(client.get("/requests/new").get_data(as_text=True).split())
    assert "We always answer within 20 days at the latest." in form
