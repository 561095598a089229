"""The request page's actions: each on the audit trail under the staff member's email, emails
to the person carry the reason, extensions stay within the law, and a deletion approved in the
console runs to the end on the demo data (real worker, real SMTP)."""
from datetime import timedelta

from helpers import csrf_token, run_worker, submit
from test_staff_access import AGENT, logged_in, make_request
from test_workflows import confirm, the_request

from app import deadlines
from app.extensions import db
from app.models import AuditEvent, DataRequest, Step, utcnow


def act(client, request_id, action, **fields):
    page = f"/staff/requests/{request_id}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **fields})


def last_event(app, request_id):
    with app.app_context():
        return db.session.execute(
            db.select(AuditEvent).where(AuditEvent.request_id == request_id)
            .order_by(AuditEvent.seq.desc())).scalars().first()


def messages_to(sink, address):
    return [m for m in sink.messages if m["To"] == address]


def body(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def test_every_action_goes_on_the_audit_trail_with_the_staff_email(app):
    client = logged_in(app, AGENT)
    cases = {
        "approve": ({}, {}),
        "reject": ({}, {"reason": "We could not confirm the account is yours"}),
        "extend": ({}, {"reason": "Many systems", "new_due": (
            utcnow() + timedelta(days=40)).date().isoformat()}),
        "assign": ({}, {"assignee": "me"}),
        "cancel": ({}, {"reason": "Duplicate of another request"}),
        "retry": ({"state": "needs_attention"}, {}),
        "note": ({}, {"note": "Called the person to check the address"}),
        "preview": ({}, {}),
    }
    expected_action = {"approve": "started", "reject": "rejected", "extend": "extended",
                       "assign": "assigned", "cancel": "cancelled", "retry": "retried",
                       "note": "note", "preview": "preview_requested"}
    for action, (setup, fields) in cases.items():
        request_id = make_request(app, **setup)
        if action == "retry":
            with app.app_context():
                db.session.add(Step(request_id=request_id, phase="discover", state="failed",
                                    attempts=4, error="StoreUnavailable"))
                db.session.commit()
        response = act(client, request_id, action, **fields)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[-500:])
        event = last_event(app, request_id)
        assert (event.actor, event.action) == (AGENT, expected_action[action]), action
    with app.app_context():
        retried = db.session.execute(db.select(Step).where(Step.phase == "discover",
                                                           Step.error.is_not(None))).scalar_one()
        assert (retried.state, retried.attempts) == ("pending", 0)
        assert db.session.get(DataRequest, retried.request_id).state == "in_progress"


def test_reject_emails_the_reason_and_how_to_appeal_and_complain(mail_app, smtp_server):
    _, sink = smtp_server
    client = logged_in(mail_app, AGENT)
    request_id = make_request(mail_app, email="rejected@example.com")
    response = act(client, request_id, "reject",
                   reason="The account named in the request does not exist")
    assert response.status_code == 302
    run_worker()
    [message] = messages_to(sink, "rejected@example.com")
    text = body(message)
    assert "declined" in message["Subject"]
    assert "The account named in the request does not exist" in text
    assert "appeal" in text and "complain" in text and "edpb.europa.eu" in text
    with mail_app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        assert (data_request.state, data_request.close_reason) == (
            "rejected", "The account named in the request does not exist")


def test_reject_needs_a_reason(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app)
    assert act(client, request_id, "reject", reason="  ").status_code == 400
    assert last_event(app, request_id).action == "submitted"


def test_extend_emails_the_new_date_and_the_reason_once(mail_app, smtp_server):
    _, sink = smtp_server
    client = logged_in(mail_app, AGENT)
    request_id = make_request(mail_app, regime="ccpa", email="extended@example.com")
    with mail_app.app_context():
        old_due = db.session.get(DataRequest, request_id).due_at
    new_day = (old_due + timedelta(days=30)).date()
    response = act(client, request_id, "extend", new_due=new_day.isoformat(),
                   reason="Records are spread over archived systems")
    assert response.status_code == 302
    run_worker()
    [message] = messages_to(sink, "extended@example.com")
    text = body(message)
    assert "Records are spread over archived systems" in text
    # The date as the person's language writes it ("16 January 2027", "January 16, 2027").
    assert f"{new_day:%B}" in text and str(new_day.year) in text and str(new_day.day) in text
    with mail_app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        assert data_request.original_due_at == old_due
        assert data_request.due_at.date() == new_day
        assert data_request.extension_reason == "Records are spread over archived systems"
    again = act(client, request_id, "extend", new_due=(new_day + timedelta(days=1)).isoformat(),
                reason="More")
    assert again.status_code == 409 and "once" in again.get_data(as_text=True)


def test_extension_beyond_the_regimes_limit_is_refused(app):
    client = logged_in(app, AGENT)
    for regime in ("gdpr", "ccpa", "us_state"):
        request_id = make_request(app, regime=regime)
        with app.app_context():
            due = db.session.get(DataRequest, request_id).due_at
        limit = deadlines.extension_limit(regime, due)
        response = act(client, request_id, "extend", reason="Complex",
                       new_due=(limit + timedelta(days=1)).date().isoformat())
        assert response.status_code == 422, regime
        assert "beyond" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(DataRequest, request_id).original_due_at is None
        assert act(client, request_id, "extend", reason="Complex",
                   new_due=limit.date().isoformat()).status_code == 302, regime


def test_regimes_without_an_extension_refuse_any(app):
    client = logged_in(app, AGENT)
    for regime in ("appi", "company"):
        request_id = make_request(app, regime=regime)
        response = act(client, request_id, "extend", reason="Complex",
                       new_due=(utcnow() + timedelta(days=25)).date().isoformat())
        assert response.status_code == 422 and "no extension" in response.get_data(as_text=True)


def test_approve_refuses_a_request_that_already_started(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="in_progress")
    response = act(client, request_id, "approve")
    assert response.status_code == 409
    assert last_event(app, request_id).action == "submitted"


def test_approve_on_a_request_needing_attention_is_refused_not_a_second_start(app):
    """A stale page's "Approve" (or the CLI) on a request whose steps exist: a clear 409 that
    points to Retry, nothing written; before, a second discover step broke the unique key."""
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="needs_attention")
    with app.app_context():
        db.session.add_all([
            Step(request_id=request_id, phase="discover", state="done", attempts=1,
                 finished_at=utcnow()),
            Step(request_id=request_id, phase="store", store="accounts", state="failed",
                 attempts=4, error="StoreUnavailable")])
        db.session.commit()
    response = act(client, request_id, "approve")
    assert response.status_code == 409
    assert "retried" in response.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["requests", "approve", the_reference(
        app, request_id), "--by", AGENT])
    assert result.exit_code == 1 and "awaiting approval" in result.output
    with app.app_context():
        assert db.session.get(DataRequest, request_id).state == "needs_attention"
        assert db.session.execute(db.select(db.func.count(Step.id)).where(
            Step.request_id == request_id)).scalar_one() == 2
    assert last_event(app, request_id).action == "submitted"


def the_reference(app, request_id):
    with app.app_context():
        return db.session.get(DataRequest, request_id).reference


def test_deletion_approved_in_the_console_completes_on_the_demo_data(demo_app, smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    submit(client, email="alice@example.com", request_type="deletion", confirm="y")
    confirm(client, demo_app)
    request_id = the_request(demo_app).id
    staff = logged_in(demo_app, AGENT)
    assert act(staff, request_id, "preview").status_code == 302
    run_worker()
    page = staff.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    assert "Scanned" in page and "payment_processor" in page
    with demo_app.app_context():
        preview = db.session.get(DataRequest, request_id).preview
        assert preview["error"] is None and sum(preview["counts"]["accounts"].values()) >= 1

    assert act(staff, request_id, "approve").status_code == 302
    run_worker()
    with demo_app.app_context():
        step_id = db.session.execute(db.select(Step.id).where(
            Step.request_id == request_id, Step.state == "waiting")).scalar_one()
    response = act(staff, request_id, "resolve", step_id=str(step_id),
                   note="Erased in the processor's dashboard")
    assert response.status_code == 302
    run_worker()
    data_request = the_request(demo_app)
    assert data_request.state == "completed"
    assert any("erased" in m["Subject"] for m in sink.messages)
    with demo_app.app_context():
        actors = db.session.execute(db.select(AuditEvent.actor, AuditEvent.action).where(
            AuditEvent.request_id == request_id).order_by(AuditEvent.seq)).all()
    assert (AGENT, "started") in actors and (AGENT, "manual_step_resolved") in actors


def test_correction_review_shows_current_and_proposed_side_by_side(demo_app, smtp_server):
    client = demo_app.test_client()
    # "Name" as a person types it: matched to the `name` column as the correction job does.
    submit(client, email="alice@example.com", request_type="correction",
           **{"corrections-0-field": "Name", "corrections-0-problem": "typo",
              "corrections-0-proposed": "Alice Q. Example"})
    confirm(client, demo_app)
    request_id = the_request(demo_app).id
    staff = logged_in(demo_app, AGENT)
    act(staff, request_id, "preview")
    run_worker()
    with demo_app.app_context():
        current = db.session.get(DataRequest, request_id).preview["current"]["Name"]
    assert current and all(v["value"] != "Alice Q. Example" for v in current)
    page = staff.get(f"/staff/requests/{request_id}").get_data(as_text=True)
    assert "Alice Q. Example" in page and current[0]["value"] in page
