"""SLA automation: reminders at 7, 3 and 1 days before due, each once across repeated and
concurrent sweeps; overdue escalation to admins; one digest a day. Real DB, worker and SMTP."""
import threading
from datetime import timedelta

from helpers import run_worker
from test_staff_access import ADMIN, AGENT, create_staff, make_request

from app.extensions import db
from app.models import DataRequest, MailMessage, Reminder, utcnow
from workflows.sla import reminder_kind, sweep


def sent(app, kind=None):
    with app.app_context():
        query = db.select(Reminder.request_id, Reminder.kind, Reminder.period)
        if kind:
            query = query.where(Reminder.kind == kind)
        return db.session.execute(query.order_by(Reminder.id)).all()


def mails(app, kind):
    with app.app_context():
        return db.session.execute(db.select(MailMessage.to_addr, MailMessage.request_id).where(
            MailMessage.kind == kind).order_by(MailMessage.id)).all()


def run_sweep(app, now):
    with app.app_context():
        return sweep(now)


def test_reminder_kind_picks_the_tightest_threshold_reached():
    now = utcnow()
    assert reminder_kind(now + timedelta(days=8), now) is None
    assert reminder_kind(now + timedelta(days=7), now) == "due_7"
    assert reminder_kind(now + timedelta(days=2, hours=23), now) == "due_3"
    assert reminder_kind(now + timedelta(hours=5), now) == "due_1"
    assert reminder_kind(now - timedelta(hours=1), now) is None


def test_each_threshold_reminds_once_across_repeated_sweeps(app):
    create_staff(app, AGENT)
    create_staff(app, "second@craftos.net")
    create_staff(app, ADMIN, "admin")
    request_id = make_request(app, due_in_days=10)
    with app.app_context():
        due = db.session.get(DataRequest, request_id).due_at
    # Walk the clock from 10 days before due to 1 hour before, sweeping every 6 hours, twice.
    moment = due - timedelta(days=10)
    while moment < due - timedelta(hours=1):
        run_sweep(app, moment)
        run_sweep(app, moment)
        moment += timedelta(hours=6)
    kinds = [kind for rid, kind, _ in sent(app) if rid == request_id]
    assert kinds == ["due_7", "due_3", "due_1"]
    # Unassigned: every active agent hears of it, the admin does not.
    assert sorted(addr for addr, _ in mails(app, "reminder")) == sorted(
        [AGENT, "second@craftos.net"] * 3)


def test_reminders_go_to_the_assignee_only_once_assigned(app):
    create_staff(app, AGENT)
    create_staff(app, "second@craftos.net")
    from app.models import StaffUser
    with app.app_context():
        agent_id = db.session.execute(db.select(StaffUser.id).where(
            StaffUser.email == AGENT)).scalar_one()
    make_request(app, due_in_days=2, assignee_id=agent_id)
    run_sweep(app, utcnow())
    assert [addr for addr, _ in mails(app, "reminder")] == [AGENT]


def test_concurrent_sweeps_send_each_reminder_once(app):
    create_staff(app, AGENT)
    create_staff(app, ADMIN, "admin")
    for days in (0.5, 2, 6, -1, -3):
        make_request(app, due_in_days=days)
    now = utcnow()
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            run_sweep(app, now)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    kinds = sorted(kind for _, kind, _ in sent(app))
    assert kinds == ["digest", "due_1", "due_3", "due_7", "overdue", "overdue"]
    assert len(mails(app, "reminder")) == 3 and len(mails(app, "escalation")) == 2
    assert len(mails(app, "digest")) == 2  # one each to the agent and the admin


def test_concurrent_sweep_processes_send_each_reminder_once(app, env):
    """Two `flask sla sweep` processes at once against the same database."""
    import subprocess
    import sys

    from helpers import ROOT
    create_staff(app, AGENT)
    for days in (0.5, 2, 6):
        make_request(app, due_in_days=days)
    now = utcnow().isoformat()
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sla", "sweep",
                                   "--now", now], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    assert sorted(kind for _, kind, _ in sent(app)) == ["digest", "due_1", "due_3", "due_7"]
    assert len(mails(app, "reminder")) == 3


def test_overdue_escalation_reaches_the_admins_daily(mail_app, smtp_server):
    _, sink = smtp_server
    create_staff(mail_app, AGENT)
    create_staff(mail_app, ADMIN, "admin")
    create_staff(mail_app, "dpo@craftos.net", "admin")
    request_id = make_request(mail_app, due_in_days=-2)
    # Noon: "an hour later, the same day" must be the same day whenever the suite runs (from
    # 23:00 UTC on, now + 1 hour was tomorrow and a second escalation was rightly sent).
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    run_sweep(mail_app, now)
    run_sweep(mail_app, now + timedelta(hours=1))  # same day: nothing new
    run_worker()
    escalations = [m for m in sink.messages if m["Subject"].startswith("Overdue")]
    assert sorted(m["To"] for m in escalations) == [ADMIN, "dpo@craftos.net"]
    with mail_app.app_context():
        reference = db.session.get(DataRequest, request_id).reference
    body = escalations[0].get_body(preferencelist=("plain",)).get_content()
    assert reference in body and "alice" not in body.lower()  # no personal data to staff
    run_sweep(mail_app, now + timedelta(days=1))  # the next day: escalated again
    assert [kind for _, kind, _ in sent(mail_app, "overdue")] == ["overdue", "overdue"]


def test_extension_earns_fresh_reminders_for_the_new_date(app):
    create_staff(app, AGENT)
    request_id = make_request(app, due_in_days=2)
    run_sweep(app, utcnow())
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        data_request.original_due_at, data_request.extension_reason = data_request.due_at, "x"
        data_request.due_at += timedelta(days=30)
        db.session.commit()
    run_sweep(app, utcnow() + timedelta(days=29))
    reminders = [(kind, period) for rid, kind, period in sent(app) if rid == request_id]
    assert [kind for kind, _ in reminders] == ["due_3", "due_3"]
    assert reminders[0][1] != reminders[1][1]  # keyed by the due date each was for


def test_closed_and_unconfirmed_requests_get_no_reminders(app):
    create_staff(app, AGENT)
    make_request(app, state="completed", due_in_days=2)
    make_request(app, state="pending_verification", due_in_days=2)
    run_sweep(app, utcnow())
    assert [kind for _, kind, _ in sent(app)] == ["digest"]


def test_sla_sweep_command_reports_what_it_sent(app):
    create_staff(app, AGENT)
    make_request(app, due_in_days=2)
    output = app.test_cli_runner().invoke(args=["sla", "sweep"]).output
    assert "due_3=1" in output and "digest=1" in output
    assert "due_3=0" in app.test_cli_runner().invoke(args=["sla", "sweep"]).output
