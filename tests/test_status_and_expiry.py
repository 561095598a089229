"""The status page, cancelling one's own request, and the expiry of unconfirmed requests."""
from datetime import timedelta

import pytest
from helpers import csrf_token, submit
from test_links import verify_path

from app.extensions import db
from app.models import AuditEvent, DataRequest, LinkNonce, MailMessage, utcnow


def confirm_and_get_status(client, app):
    path = verify_path(app)
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    return response.headers["Location"]


def test_person_cancels_their_own_request(client, app):
    submit(client)
    status = confirm_and_get_status(client, app)
    response = client.post(status + "/cancel", data={"csrf_token": csrf_token(client, status)})
    assert response.status_code == 303
    page = client.get(status).get_data(as_text=True)
    assert "Cancelled" in page and "Cancel this request" not in page
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        assert data_request.state == "cancelled" and data_request.closed_at is not None
        last = db.session.execute(
            db.select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
        assert (last.actor, last.to_state) == ("subject", "cancelled")
        assert db.session.query(MailMessage).filter_by(kind="cancelled").count() == 1


def test_cancelling_twice_just_shows_the_status_page(client, app):
    submit(client)
    status = confirm_and_get_status(client, app)
    client.post(status + "/cancel", data={"csrf_token": csrf_token(client, status)})
    # A second tab still showing the button: the request already is what the person asked for.
    again = client.post(status + "/cancel",
                        data={"csrf_token": csrf_token(client, "/requests/new")})
    assert again.status_code == 303 and again.headers["Location"].endswith(status)
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(to_state="cancelled").count() == 1
        assert db.session.query(MailMessage).filter_by(kind="cancelled").count() == 1


def close_behind_the_persons_back(app, state):
    """Staff (or the workflow) closed the request while the person's page still shows the button."""
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        data_request.state, data_request.closed_at = state, utcnow()
        db.session.commit()


@pytest.mark.parametrize("state, words", [
    ("completed", "This request is already completed, so it can no longer be cancelled."),
    ("rejected", "This request was already declined, so there is nothing left to cancel."),
])
def test_cancelling_a_closed_request_says_why_in_words(client, app, state, words):
    submit(client)
    status = confirm_and_get_status(client, app)
    token = csrf_token(client, status)
    close_behind_the_persons_back(app, state)
    response = client.post(status + "/cancel", data={"csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert words in html and "cannot become" not in html
    with app.app_context():
        assert db.session.execute(db.select(DataRequest.state)).scalar_one() == state


def test_cancelling_a_closed_request_ja(client, app):
    """Needs the catalog entry for the new cancel message."""
    client.get("/?lang=ja")
    submit(client)
    status = confirm_and_get_status(client, app)
    token = csrf_token(client, status)
    close_behind_the_persons_back(app, "completed")
    response = client.post(status + "/cancel", data={"csrf_token": token})
    assert response.status_code == 409
    words = "このリクエストはすでに完了しているため、取り消すことはできません。"
    assert words in response.get_data(as_text=True)


def test_status_link_shows_only_its_own_request(client, app):
    submit(client, email="alice@example.com", name="Alice Example")
    alice_status = confirm_and_get_status(client, app)
    submit(client, email="bob@example.com", name="Bob Example", request_type="export")
    bob_status = confirm_and_get_status(client, app)
    alice_page = client.get(alice_status).get_data(as_text=True)
    bob_page = client.get(bob_status).get_data(as_text=True)
    with app.app_context():
        alice_ref, bob_ref = db.session.execute(
            db.select(DataRequest.reference).order_by(DataRequest.id)).scalars().all()
    assert alice_ref in alice_page and bob_ref not in alice_page
    assert bob_ref in bob_page and alice_ref not in bob_page
    assert client.get(alice_status[:-4] + "abcd").status_code == 400


def test_unconfirmed_requests_expire_and_their_personal_data_is_purged(app):
    client = app.test_client()
    submit(client, email="old@example.com", name="Old Request", details="my username is olduser")
    submit(client, email="new@example.com", name="New Request")
    with app.app_context():
        old = db.session.execute(db.select(DataRequest).order_by(DataRequest.id)).scalars().first()
        old.received_at = utcnow() - timedelta(days=8)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["requests", "expire"])
    assert result.exit_code == 0 and "1 request(s) expired" in result.output
    with app.app_context():
        old, new = db.session.execute(
            db.select(DataRequest).order_by(DataRequest.id)).scalars().all()
        assert old.state == "expired" and new.state == "pending_verification"
        assert (old.email, old.name, old.details) == (None, None, None)
        assert old.purged_at is not None
        assert db.session.query(LinkNonce).filter_by(request_id=old.id).count() == 0
        mail = db.session.query(MailMessage).filter_by(request_id=old.id).one()
        # The verify link goes too: its mail was still queued, unrendered (context only).
        assert (mail.to_addr, mail.body_text, mail.context, mail.state) == (
            None, None, None, "failed")
        assert new.email == "new@example.com"
    # A second run finds nothing more to do.
    again = app.test_cli_runner().invoke(args=["requests", "expire"])
    assert "0 request(s) expired" in again.output


def test_progress_never_says_nothing_was_gathered_when_something_was(client, app):
    """47 KB gathered read "0.0 MB gathered" (while the email said 0.1 MB)."""
    from app.models import Step

    submit(client)
    status = confirm_and_get_status(client, app)
    with app.app_context():
        request_id = db.session.execute(db.select(DataRequest.id)).scalar_one()
        db.session.add(Step(request_id=request_id, phase="store", store="accounts",
                            state="done", bytes=48_000, finished_at=utcnow()))
        db.session.commit()
    page = client.get(status).get_data(as_text=True)
    assert "0.1 MB gathered" in page and "0.0 MB" not in page
