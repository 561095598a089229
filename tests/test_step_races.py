"""A step job and staff's Retry racing on a request that needs attention: the request must not
end in progress with a failed step that nothing revives; and the reconciler notices one that
does (real Redis, real SQLite)."""
from test_staff_access import ADMIN, logged_in, make_request
from test_staff_actions import act

import workflows.steps as steps
from app.extensions import db
from app.models import DataRequest, Step, utcnow
from app.queue import queue
from workflows.reconcile import reconcile


def request_needing_attention(app):
    """Store A failed for good (so the request needs attention); store B is pending, its RQ
    retry still queued."""
    request_id = make_request(app, request_type="access", state="needs_attention")
    with app.app_context():
        db.session.add(Step(request_id=request_id, phase="discover", store="", state="done",
                            attempts=1, finished_at=utcnow()))
        a = Step(request_id=request_id, phase="store", store="a", state="failed", attempts=4,
                 error="StoreUnavailable")
        b = Step(request_id=request_id, phase="store", store="b", state="pending", attempts=1)
        db.session.add_all([a, b])
        db.session.commit()
        return request_id, a.id, b.id


def test_retry_pressed_while_a_queued_step_runs_leaves_no_step_stranded(app, monkeypatch):
    client = logged_in(app, ADMIN, "admin")
    request_id, a_id, b_id = request_needing_attention(app)
    calls, real_clock = [], steps.utcnow

    def clock():
        # run_step's first clock read is its claim; at the second it has decided what to do
        # with the step, and staff press Retry before that decision is written.
        calls.append(1)
        if len(calls) == 2:
            assert act(client, request_id, "retry").status_code == 302
        return real_clock()

    monkeypatch.setattr(steps, "utcnow", clock)
    with app.app_context():
        steps.run_step(b_id)
    monkeypatch.setattr(steps, "utcnow", real_clock)
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        b = db.session.get(Step, b_id)
        assert request.state == "in_progress"
        assert b.state == "pending"  # not failed: the Retry's job (or the reconciler) runs it
        assert db.session.get(Step, a_id).state == "pending"
        assert {f"step-{a_id}", f"step-{b_id}"} <= set(queue().job_ids)
        assert reconcile() == 0  # the Retry queued both steps: nothing left to revive
        assert db.session.get(DataRequest, request_id).state == "in_progress"


def test_a_step_run_while_its_request_needs_attention_waits_for_retry(app):
    client = logged_in(app, ADMIN, "admin")
    request_id, a_id, b_id = request_needing_attention(app)
    with app.app_context():
        assert steps.run_step(b_id) == "request not in progress: left pending for Retry"
        assert db.session.get(Step, b_id).state == "pending"
    assert act(client, request_id, "retry").status_code == 302
    with app.app_context():
        ids = queue().job_ids
        # Retry queues the failed step and the one handed back pending.
        assert {f"step-{a_id}", f"step-{b_id}"} <= set(ids), ids


def test_a_step_of_a_cancelled_request_stops_for_good(app):
    request_id, _, b_id = request_needing_attention(app)
    with app.app_context():
        db.session.get(DataRequest, request_id).state = "cancelled"
        db.session.get(DataRequest, request_id).closed_at = utcnow()
        db.session.commit()
        assert steps.run_step(b_id) == "request closed"
        b = db.session.get(Step, b_id)
        assert (b.state, b.error) == ("failed", "request no longer open")


def test_reconciler_puts_a_request_with_only_failed_steps_before_staff(app):
    request_id, a_id, b_id = request_needing_attention(app)
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        request.state = "in_progress"
        db.session.get(Step, b_id).state, db.session.get(Step, b_id).finished_at = (
            "done", utcnow())
        db.session.commit()
        reconcile()
        request = db.session.get(DataRequest, request_id)
        assert request.state == "needs_attention"
        assert db.session.get(Step, a_id).state == "failed"  # left for staff's Retry
        reconcile()  # a second sweep changes nothing
        assert db.session.get(DataRequest, request_id).state == "needs_attention"

