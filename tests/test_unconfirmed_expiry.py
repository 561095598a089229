"""One boundary for "this unconfirmed request has expired": the pages (has_expired), the verify
link's nonce and the hourly sweep all switch at received_at + UNVERIFIED_EXPIRY_DAYS, that
moment included. Real SQLite."""
from datetime import datetime, timedelta, timezone

from test_staff_access import make_request

from app.extensions import db
from app.intake import send_verify_link
from app.lifecycle import has_expired, unconfirmed_expiry
from app.models import DataRequest, LinkNonce
from workflows.expiry import expire_unverified

RECEIVED = datetime(2025, 3, 10, 20, 0, 0, 123456, tzinfo=timezone.utc)
JUST_BEFORE = timedelta(microseconds=1)


def unconfirmed(app):
    request_id = make_request(app, state="pending_verification")
    with app.app_context():
        db.session.get(DataRequest, request_id).received_at = RECEIVED
        db.session.commit()
    return request_id


def test_the_page_and_the_sweep_expire_a_request_at_the_same_moment(app):
    request_id = unconfirmed(app)
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        boundary = unconfirmed_expiry(data_request)
        assert boundary == RECEIVED + timedelta(days=app.config["UNVERIFIED_EXPIRY_DAYS"])

        assert not has_expired(data_request, boundary - JUST_BEFORE)
        assert expire_unverified(boundary - JUST_BEFORE) == 0

        assert has_expired(data_request, boundary)
        assert expire_unverified(boundary) == 1
        db.session.expire_all()
        assert db.session.get(DataRequest, request_id).state == "expired"


def test_a_late_verify_link_dies_at_the_same_moment(app):
    request_id = unconfirmed(app)
    with app.test_request_context():
        data_request = db.session.get(DataRequest, request_id)
        send_verify_link(data_request)
        db.session.commit()
        nonce = db.session.execute(db.select(LinkNonce).where(
            LinkNonce.request_id == request_id, LinkNonce.purpose == "verify")).scalar_one()
        # A nonce is live while expires_at > now: dead from the expiry moment on, like the page.
        assert nonce.expires_at == unconfirmed_expiry(data_request)
