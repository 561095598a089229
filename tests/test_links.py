"""Signed links: expired, tampered, reused and cross-purpose tokens are refused in words."""
import time

import pytest
from helpers import csrf_token, submit

from app.extensions import db
from app.lifecycle import transition
from app.mail import bodies
from app.models import DataRequest, LinkNonce, MailMessage
from app.tokens import make_link_token


def verify_path(app):
    """The verify link from the newest queued email, as the person would find it."""
    with app.app_context():
        message = db.session.execute(
            db.select(MailMessage).where(MailMessage.kind == "verify")
            .order_by(MailMessage.id.desc())
        ).scalars().first()
        text = bodies(message)[0]
        start = text.index("http://portal.test/verify/")
        return text[start:].split()[0].removeprefix("http://portal.test")


def state(app):
    with app.app_context():
        return db.session.execute(db.select(DataRequest.state)).scalar_one()


def confirm(client, path):
    return client.post(path, data={"csrf_token": csrf_token(client, "/requests/new")})


def test_get_never_consumes_the_link(client, app):
    submit(client)
    path = verify_path(app)
    for _ in range(3):  # a mail scanner prefetching the link, several times
        assert client.get(path).status_code == 200
    assert state(app) == "pending_verification"
    assert confirm(client, path).status_code == 303
    assert state(app) == "in_progress"  # confirmed, and access starts on its own


def test_reused_link_is_refused_with_410(client, app):
    submit(client)
    path = verify_path(app)
    assert confirm(client, path).status_code == 303
    again = confirm(client, path)
    assert again.status_code == 410
    assert b"already been used" in again.data
    assert client.get(path).status_code == 410
    with app.app_context():
        assert db.session.execute(db.select(LinkNonce.used_at)).scalar_one() is not None


def test_tampered_link_is_refused_with_400(client, app):
    submit(client)
    path = verify_path(app)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for response in (client.get(tampered), confirm(client, tampered)):
        assert response.status_code == 400
        assert b"not valid" in response.data
    assert client.get("/verify/not-a-token-at-all").status_code == 400
    assert state(app) == "pending_verification"


def test_token_for_another_purpose_is_refused(client, app):
    submit(client)
    with app.test_request_context():
        reference = db.session.execute(db.select(DataRequest.reference)).scalar_one()
        status_token = make_link_token("status", reference)
        forged_verify = make_link_token("verify", reference)  # signed, but no server-side nonce
    assert client.get(f"/verify/{status_token}").status_code == 400
    assert confirm(client, f"/verify/{status_token}").status_code == 400
    assert client.get(f"/verify/{forged_verify}").status_code == 400
    verify_token = verify_path(app).removeprefix("/verify/")
    assert client.get(f"/status/{verify_token}").status_code == 400
    assert state(app) == "pending_verification"


def test_expired_link_is_refused_with_410_and_offers_a_new_one(make_app):
    app = make_app(VERIFY_TTL_SECONDS=1)
    client = app.test_client()
    submit(client)
    path = verify_path(app)
    time.sleep(2.1)
    page = client.get(path)
    assert page.status_code == 410
    assert b"expired" in page.data and b"Send me a new link" in page.data
    assert confirm(client, path).status_code == 410
    resend = client.post(path + "/resend", data={"csrf_token": csrf_token(client, "/requests/new")})
    assert resend.status_code == 202
    with app.app_context():
        assert db.session.query(MailMessage).filter_by(kind="verify").count() == 2
    assert verify_path(app) != path
    assert state(app) == "pending_verification"


def test_link_of_a_cancelled_request_cannot_confirm_it(client, app):
    submit(client)
    path = verify_path(app)
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        transition(data_request, "cancelled", "subject")
        db.session.commit()
    assert confirm(client, path).status_code == 410
    assert state(app) == "cancelled"


@pytest.mark.parametrize("bucket,limit", [("verify", 3)])
def test_verify_is_rate_limited(make_app, bucket, limit):
    app = make_app(RATE_LIMITS={"intake": (100, 3600), "recipient": (100, 3600),
                                "verify": (limit, 600), "resend": (3, 3600), "status": (100, 600)})
    client = app.test_client()
    submit(client)
    path = verify_path(app)
    codes = [client.get(path).status_code for _ in range(limit + 2)]
    assert codes[:limit] == [200] * limit
    assert codes[limit:] == [429, 429]
    assert "Retry-After" in client.get(path).headers


def test_an_expired_status_link_says_what_can_be_done(client, app):
    """Only a verify link can be sent again; an expired status or download link promised a
    new one by email and offered no way to get it."""
    from test_fuzz import expired_token

    submit(client)
    with app.app_context():
        reference = db.session.execute(db.select(DataRequest.reference)).scalar_one()
    for path in ("/status/" + expired_token(app, "status", reference),
                 "/download/" + expired_token(app, "download", reference, k="archive")):
        page = client.get(path)
        assert page.status_code == 410, path
        text = page.get_data(as_text=True)
        assert "This link has expired" in text and "please make a new request" in text
        assert "We can send you a new one" not in text and "Send me a new link" not in text
