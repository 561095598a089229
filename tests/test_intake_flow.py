"""The whole path a person walks: form -> email -> confirm button -> status page."""
import re
from datetime import timedelta

from helpers import csrf_token, links_in, run_worker, submit

from app import deadlines
from app.extensions import db
from app.models import AuditEvent, DataRequest, MailMessage


def only_request():
    return db.session.execute(db.select(DataRequest)).scalar_one()


def test_person_submits_confirms_by_email_and_sees_status(mail_app, smtp_server):
    _, sink = smtp_server
    client = mail_app.test_client()
    response = submit(client, email="Alice@Example.com")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/requests/sent")
    with mail_app.app_context():
        queued = db.session.execute(db.select(MailMessage)).scalar_one()
        # The POST stored what the mail is written from; the worker renders it.
        assert queued.body_text is None and "/verify/" in queued.context["verify_url"]

    run_worker()  # a real RQ worker renders the verify email and delivers it to real SMTP
    assert len(sink.messages) == 1
    verify_mail = sink.messages[0]
    assert verify_mail["To"] == "alice@example.com"
    assert verify_mail.get_body(preferencelist=("html",)) is not None
    verify_url = links_in(verify_mail)[0]
    assert verify_url.startswith("http://portal.test/verify/")
    path = verify_url.removeprefix("http://portal.test")

    page = client.get(path)
    assert page.status_code == 200
    assert b"Yes, this is my request" in page.data
    with mail_app.app_context():
        assert only_request().state == "pending_verification"  # GET confirms nothing

    token = csrf_token(client, path)
    confirmed = client.post(path, data={"csrf_token": token})
    assert confirmed.status_code == 303
    status_path = confirmed.headers["Location"]
    assert "/status/" in status_path

    with mail_app.app_context():
        data_request = only_request()
        # Access starts on its own once confirmed (AUTO_START_TYPES).
        assert data_request.state == "in_progress"
        assert data_request.verified_at is not None
        expected_due = deadlines.due_at("gdpr", data_request.received_at,
                                        data_request.verified_at, 30)
        assert data_request.due_at == expected_due
        actions = [e.action for e in db.session.execute(
            db.select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
        assert actions == ["submitted", "verified", "started"]
        local_due = deadlines.local_date(expected_due, "Europe/Berlin")

    status = client.get(status_path)
    assert status.status_code == 200
    text = status.get_data(as_text=True)
    assert "In progress" in text
    assert f"{local_due:%B} {local_due.day}, {local_due.year}" in text  # e.g. December 27, 2026
    assert "Cancel this request" in text

    run_worker()
    assert len(sink.messages) == 2
    ack = sink.messages[1]
    assert "We will answer by" in ack.get_body(preferencelist=("plain",)).get_content()
    assert any("/status/" in link for link in links_in(ack))
    with mail_app.app_context():
        sent = db.session.execute(db.select(MailMessage)).scalars().all()
        assert {m.state for m in sent} == {"sent"}
        # Links do not linger in the database, neither rendered nor as the verify mail's context.
        assert all(m.body_text is None and m.context is None for m in sent)


def test_every_request_type_can_be_submitted(app):
    client = app.test_client()
    cases = [
        {"request_type": "access"},
        {"request_type": "export", "region": "california"},
        {"request_type": "correction", "region": "japan", "corrections-0-field": "name",
         "corrections-0-problem": "misspelt", "corrections-0-proposed": "Alicia Example"},
        {"request_type": "deletion", "region": "us_other", "confirm": "y"},
    ]
    for fields in cases:
        assert submit(client, **fields).status_code == 303, fields
    with app.app_context():
        rows = db.session.execute(db.select(DataRequest).order_by(DataRequest.id)).scalars().all()
        assert [r.request_type for r in rows] == ["access", "export", "correction", "deletion"]
        assert [r.regime for r in rows] == ["gdpr", "ccpa", "appi", "us_state"]
        assert rows[2].corrections == [
            {"field": "name", "problem": "misspelt", "proposed": "Alicia Example"}]
        # CCPA's 45 days lose to the company's 30-day promise counted from receipt.
        assert rows[1].due_at == rows[1].received_at + timedelta(days=30)
        assert len(db.session.execute(db.select(MailMessage)).scalars().all()) == 4


def test_known_and_unknown_addresses_get_the_identical_response(app):
    # One address belongs to a demo person with data, the other to nobody: the page must not tell.
    client = app.test_client()
    first = submit(client, email="alice@example.com")
    second = submit(client, email="nobody-at-all@example.org")
    assert (first.status_code, first.headers["Location"]) == (
        second.status_code, second.headers["Location"])
    page_one = client.get("/requests/sent").get_data(as_text=True)
    page_two = client.get("/requests/sent").get_data(as_text=True)
    strip = re.compile(r'value="[^"]+"')
    assert strip.sub("", page_one) == strip.sub("", page_two)


def test_the_cached_blank_form_gives_every_visitor_their_own_working_token(app):
    """The empty form is rendered once per language; each visit still gets its own token."""
    first, second = app.test_client(), app.test_client()
    token_1 = csrf_token(first, "/requests/new")
    token_2 = csrf_token(second, "/requests/new")
    assert token_1 != token_2
    assert "\x00" not in first.get("/requests/new").get_data(as_text=True)  # no slot left over
    # Each token works only with its own session: swapping them is refused.
    assert submit(first, csrf_token=token_2).status_code == 400
    assert submit(first, csrf_token=token_1).status_code == 303
    assert submit(second, csrf_token=token_2, email="bob@example.com").status_code == 303
    with app.app_context():
        assert db.session.query(DataRequest).count() == 2


def test_the_cached_blank_form_follows_the_visitors_language(app):
    english = app.test_client().get("/requests/new", headers={"Accept-Language": "en"})
    japanese = app.test_client().get("/requests/new", headers={"Accept-Language": "ja"})
    english_again = app.test_client().get("/requests/new?lang=en")
    assert 'lang="en"' in english.get_data(as_text=True)
    assert 'lang="ja"' in japanese.get_data(as_text=True)
    assert "Send request" in english.get_data(as_text=True)
    assert "Send request" not in japanese.get_data(as_text=True)
    assert english_again.get_data(as_text=True).count('name="csrf_token"') == 1


def test_each_correction_row_is_its_own_group_with_a_numbered_legend(app):
    """A screen reader announces "Correction 2, Which information", not the same three labels
    three times over."""
    page = app.test_client().get("/requests/new?lang=en").get_data(as_text=True)
    for number in (1, 2, 3):
        assert (f'<fieldset class="correction-row">\n      <legend>Correction {number}</legend>'
                in page)
    japanese = app.test_client().get("/requests/new?lang=ja").get_data(as_text=True)
    assert "<legend>訂正 2</legend>" in japanese
