"""What the console accepts and offers: closed requests take no manual upload, the account page
respects the lockout, refusals keep what was typed, buttons appear only where their action is
accepted, calendar-day SLA badges, and a search that looks in every state."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from helpers import csrf_token
from test_staff_access import AGENT, PASSWORD, logged_in, login, make_request, staff_row

from app.extensions import db
from app.models import OPEN_STATES, AuditEvent, DataRequest, Step, utcnow
from app.staff.sla_badge import sla_badge
from app.storage import work_dir
from workflows.expiry import minimise
from workflows.leftovers import sweep_leftover_files
from workflows.store_work import staging_dir


def act(client, request_id, action, **fields):
    page = f"/staff/requests/{request_id}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **fields})


def waiting_step(app, request_id, store="payments"):
    with app.app_context():
        step = Step(request_id=request_id, phase="store", store=store, state="waiting")
        db.session.add(step)
        db.session.commit()
        return step.id


def upload(client, request_id, step_id):
    return client.post(f"/staff/requests/{request_id}/resolve", data={
        "csrf_token": csrf_token(client, f"/staff/requests/{request_id}"),
        "step_id": str(step_id), "note": "Export from the processor",
        "upload": (io.BytesIO(b"name,card\nAlice Example,4242"), "processor.csv")},
        content_type="multipart/form-data")


# --- 1. manual steps of a closed request ------------------------------------------------------

def test_a_cancelled_request_offers_no_manual_step_and_refuses_one_with_409(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, request_type="access", state="in_progress")
    step_id = waiting_step(app, request_id)
    assert "Mark payments done" in client.get(f"/staff/requests/{request_id}").get_data(
        as_text=True)
    assert act(client, request_id, "cancel", reason="Person withdrew").status_code == 302

    assert "Mark payments done" not in client.get(f"/staff/requests/{request_id}").get_data(
        as_text=True)
    response = upload(client, request_id, step_id)
    assert response.status_code == 409
    assert "the request is cancelled" in response.get_data(as_text=True)
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        steps = db.session.execute(db.select(Step.phase, Step.state).where(
            Step.request_id == request_id)).all()
        actions = db.session.execute(db.select(AuditEvent.action).where(
            AuditEvent.request_id == request_id)).scalars().all()
        assert steps == [("store", "waiting")]  # no assemble step for a closed request
        assert "manual_step_resolved" not in actions
        assert not staging_dir(data_request).exists()


def test_the_sweep_removes_staging_of_a_request_closed_long_ago(app):
    request_id = make_request(app, request_type="access", state="cancelled")
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        data_request.closed_at = utcnow() - timedelta(days=40)
        db.session.commit()
        part = staging_dir(data_request) / "payments" / "files"
        part.mkdir(parents=True)
        (part / "processor.csv").write_text("name,card\nAlice Example,4242")
        assert sweep_leftover_files() == 1
        assert not staging_dir(data_request).exists()
        assert (work_dir() / "staging").is_dir()  # the other requests' folder stays


# --- 2. the account page and the lockout -------------------------------------------------------

NEW_PASSWORD = "a brand new password"


def change_password(client, current):
    return client.post("/staff/account/password", data={
        "csrf_token": csrf_token(client, "/staff/account"), "current": current,
        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_the_guess_that_locks_the_account_ends_the_session(app):
    client = logged_in(app, AGENT)
    for _ in range(4):
        assert change_password(client, "wrong password!!").status_code == 400
    response = change_password(client, "wrong password!!")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    assert staff_row(app).locked_until is not None
    # Logged out: the next try cannot even reach the form.
    assert "/staff/login" in client.get("/staff/account").headers["Location"]


def test_a_locked_account_changes_nothing_even_with_the_right_password(app):
    client = logged_in(app, AGENT)  # a session open before the lockout
    other = app.test_client()
    for _ in range(5):
        assert login(other, AGENT, "wrong password!!").status_code == 401
    before = staff_row(app)
    assert before.locked_until is not None

    for path, fields in [("/staff/account/password",
                          {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
                         ("/staff/account/totp/start", {"confirm-current": PASSWORD})]:
        response = client.post(path, data={"csrf_token": csrf_token(client, "/staff/account"),
                                           **fields})
        assert response.status_code == 400, path
        assert "Your account is locked" in response.get_data(as_text=True)
    after = staff_row(app)
    assert after.password_hash == before.password_hash
    assert after.totp_pending_secret is None
    assert after.session_version == before.session_version


# --- 3. a refusal keeps what was typed -----------------------------------------------------------

def test_an_extension_beyond_the_law_comes_back_with_the_reason_kept_and_the_error_on_the_date(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="in_progress")
    reason = "We must query the billing provider's backup archive, which takes three weeks."
    response = act(client, request_id, "extend", reason=reason,
                   new_due=(utcnow() + timedelta(days=200)).date().isoformat())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "three weeks." in page and 'action="/staff/requests/%d/extend"' % request_id in page
    assert '<details open><summary>Extend the deadline' in page
    assert 'id="new_due-error"' in page and "beyond what GDPR" in page
    assert (utcnow() + timedelta(days=200)).date().isoformat() in page  # the date typed, too
    # Focus lands on what went wrong, and the address, opened again, is the request's page.
    assert 'class="error-summary" role="alert" tabindex="-1" autofocus' in page
    again = client.get(f"/staff/requests/{request_id}/extend")
    assert again.status_code == 303
    assert again.headers["Location"] == f"/staff/requests/{request_id}"
    assert client.get(f"/staff/requests/{request_id}/no-such-action").status_code == 404


def test_a_cancel_without_a_reason_comes_back_as_the_request_page_with_400(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="verified")
    response = act(client, request_id, "cancel", reason="   ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<details open><summary>Cancel' in page and 'id="cancel-reason-error"' in page
    assert 'id="reject-reason-error"' not in page  # the reject form is a form of its own
    with app.app_context():
        assert db.session.get(DataRequest, request_id).state == "verified"


def test_a_refused_resolve_note_returns_to_its_own_step_only(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, request_type="deletion", state="in_progress")
    first, second = waiting_step(app, request_id), waiting_step(app, request_id, "crm")
    response = act(client, request_id, "resolve", step_id=str(second), note="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="resolve-note-{second}-error"' in page
    assert f'id="resolve-note-{first}-error"' not in page


def test_a_note_may_quote_angle_brackets_and_shows_them_escaped(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app)
    note = "Person said <old address> is wrong; see ticket 4411 <script>x</script>"
    assert act(client, request_id, "note", note=note).status_code == 302
    page = client.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    assert "&lt;old address&gt; is wrong" in page and "<script>x" not in page


def test_a_note_with_control_characters_is_refused_and_kept(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app)
    response = act(client, request_id, "note", note="Called the person\x01 twice, ticket 4411")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "ticket 4411" in page and 'id="note-error"' in page


# --- 4. retry only where it is accepted --------------------------------------------------------

def failed_step(app, request_id):
    with app.app_context():
        db.session.add(Step(request_id=request_id, phase="store", store="accounts",
                            state="failed", attempts=4, error="timed out"))
        db.session.commit()


def test_retry_is_offered_on_a_request_needing_attention_and_not_once_it_is_cancelled(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="needs_attention")
    failed_step(app, request_id)
    assert "Retry failed steps" in client.get(f"/staff/requests/{request_id}").get_data(
        as_text=True)
    assert act(client, request_id, "cancel", reason="Duplicate").status_code == 302
    assert "Retry failed steps" not in client.get(f"/staff/requests/{request_id}").get_data(
        as_text=True)


# --- 5. the extension controls say why not -------------------------------------------------------

def extension_part(client, request_id):
    page = client.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    offered = "Extend the deadline" in page
    hint = page.split("No extension: ")[1].split("</p>")[0] if "No extension: " in page else None
    return offered, hint


def test_an_overdue_request_offers_no_extension_and_says_why(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="in_progress", due_in_days=-1)
    assert extension_part(client, request_id) == (
        False, "The deadline has passed: an extension must be notified before it.")


def test_an_unconfirmed_gdpr_request_says_confirm_first_not_that_gdpr_allows_none(app):
    client = logged_in(app, AGENT)
    offered, hint = extension_part(client, make_request(app, state="pending_verification"))
    assert not offered and "has not confirmed" in hint and "allows no" not in hint


def test_the_extension_hint_names_the_regime_or_the_earlier_extension(app):
    client = logged_in(app, AGENT)
    assert extension_part(client, make_request(app, state="in_progress", regime="appi")) == (
        False, "APPI (Japan) allows no extension: the company&#39;s promise is the deadline.")
    extended = make_request(app, state="in_progress", original_due_at=utcnow(),
                            extension_reason="backups")
    offered, hint = extension_part(client, extended)
    assert not offered and "already extended" in hint
    assert extension_part(client, make_request(app, state="in_progress")) == (True, None)


# --- 6. the SLA badge counts calendar days (UTC, like the Due column) -------------------------

EVENING = datetime(2025, 3, 10, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("due_at, words", [
    (datetime(2025, 3, 11, 9, 0, tzinfo=timezone.utc), "Due soon: 1 day left"),  # 13 hours
    (datetime(2025, 3, 10, 23, 0, tzinfo=timezone.utc), "Due soon: due today"),
    (datetime(2025, 3, 17, 0, 30, tzinfo=timezone.utc), "On track: 7 days left"),
    (datetime(2025, 3, 16, 23, 59, tzinfo=timezone.utc), "Due soon: 6 days left"),
    (EVENING - timedelta(minutes=5), "Overdue: was due earlier today"),
    (datetime(2025, 3, 9, 23, 0, tzinfo=timezone.utc), "Overdue by 1 day"),  # 21 hours
    (EVENING - timedelta(days=1, hours=23), "Overdue by 2 days"),  # the 8th, 21:00
])
def test_the_badge_counts_calendar_days_in_utc(due_at, words):
    assert sla_badge("in_progress", due_at, None, EVENING, OPEN_STATES)[0] == words


# --- 7. a search from the default queue looks in every state -------------------------------------

def listed(client, query):
    page = client.get(f"/staff/?{query}").get_data(as_text=True)
    return re.findall(r'">(DSR-[0-9A-Z]{4}-[0-9A-Z]{4})</a>', page), page


def test_a_search_from_the_default_queue_finds_closed_and_minimised_requests(app):
    client = logged_in(app, AGENT)
    minimised = make_request(app, state="completed", email="bob@example.com")
    cancelled = make_request(app, state="cancelled", email="carol@example.com")
    with app.app_context():
        data_request = db.session.get(DataRequest, minimised)
        minimise(data_request)
        db.session.commit()
        reference = data_request.reference
        cancelled_reference = db.session.get(DataRequest, cancelled).reference

    assert listed(client, "")[0] == []  # the default list: open requests only
    rows, page = listed(client, "q=bob@example.com")
    assert rows == [reference] and "looks in every state" in page
    assert listed(client, "q=" + reference.replace("-", ""))[0] == [reference]
    assert listed(client, "q=" + cancelled_reference)[0] == [cancelled_reference]
    # Open chosen on purpose: the search stays within it, and the page says so.
    rows, page = listed(client, "q=bob@example.com&state=open")
    assert rows == [] and "looks only in open requests" in page
    assert 'value="open" selected' in page
