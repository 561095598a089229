"""The staff console after its second review: closed requests take no manual upload, the
account page respects the lockout, refusals keep what was typed, buttons appear only where
their action is accepted, calendar-day SLA badges, and a search that looks in every state."""
import io
from datetime import timedelta

from helpers import csrf_token
from test_staff_access import AGENT, PASSWORD, logged_in, login, make_request

from app.extensions import db
from app.models import AuditEvent, DataRequest, StaffUser, Step, utcnow
from app.storage import work_dir
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


def staff_row(app, email=AGENT):
    with app.app_context():
        return db.session.execute(db.select(StaffUser).where(StaffUser.email == email)
                                  ).scalar_one()


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
