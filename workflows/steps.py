"""Running one step of a request's workflow, as an RQ job.

A step is claimed with a conditional UPDATE (pending -> running), so two deliveries of the same
job cannot both work on it. Each phase is idempotent: staging rewrites its folder atomically,
erasure of what is already erased erases nothing, a correction sets the same values again.

A failure is written to the step before it is raised to RQ (which retries with back-off). When a
step has used STEP_MAX_ATTEMPTS the request moves to needs_attention with the error kept for
staff; the job still fails, so it also shows in RQ's failed registry. What RQ receives is the
staff description, never a driver's message: RQ logs it and keeps it in that registry.
"""
import logging
import traceback

from flask import current_app

from app.audit import record
from app.extensions import db
from app.lifecycle import lock, transition
from app.models import CLOSED_STATES, WORKFLOW_STATES, DataRequest, Step, utcnow
from app.queue import enqueue_step
from workflows.archive_staging import stage_store
from workflows.datamap import load_datamap
from workflows.scan import resolve_identities
from workflows.stores import FileItem, StoreError, make_store

from . import assembly, store_work
from .context import job

log = logging.getLogger(__name__)


def in_state(*states):
    """Step.request_id IN (requests in one of `states`): read by the UPDATE itself, so the
    decision and the request's state are one atomic statement."""
    return Step.request_id.in_(db.select(DataRequest.id).where(DataRequest.state.in_(states)))


def _claim(step_id):
    """Flip a pending step of an in-progress request to running; None when it is not ours to
    run (done, running, gone, or its request is not in progress)."""
    claimed = db.session.execute(
        db.update(Step)
        .where(Step.id == step_id, Step.state == "pending", in_state("in_progress"))
        .values(state="running", attempts=Step.attempts + 1, started_at=utcnow(), error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(Step, step_id) if claimed else None


def _not_claimed(step_id):
    """Why a step was not claimed. A step of a closed request stops for good; one of a request
    needing attention stays pending, so staff's Retry runs it (read-then-write here would let a
    Retry land in between and leave a failed step that nothing revives)."""
    stopped = db.session.execute(
        db.update(Step)
        .where(Step.id == step_id, Step.state == "pending", in_state(*CLOSED_STATES))
        .values(state="failed", finished_at=utcnow(), error="request no longer open")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if stopped:
        return "request closed"
    step = db.session.get(Step, step_id)
    if step is not None and step.state == "pending":
        return "request not in progress: left pending for Retry"
    return "not pending"


@job
def run_step(step_id):
    """Run the step with id `step_id` if it is pending and its request is in progress."""
    step = _claim(step_id)
    if step is None:
        return _not_claimed(step_id)
    data_request = db.session.get(DataRequest, step.request_id)
    try:
        return PHASES[step.phase](step, data_request)
    except Exception as exc:
        failure = exc
    # Handled outside the except block: an error while recording the failure would otherwise
    # carry the original exception, message and all, as its context.
    record_failure(step_id, failure)
    raise safe_for_rq(failure, f"step {step_id}") from None  # RQ retries it


def describe_error(exc):
    """A message for staff. Store errors are written for them; others give only their class,
    since a driver's message can quote the personal data it was handling."""
    if isinstance(exc, StoreError):
        return str(exc)[:1000]
    return f"{type(exc).__name__} (details in the worker log)"


def safe_for_rq(exc, what):
    """The exception a failed job raises to RQ in place of `exc`; raise it `from None`.

    RQ logs the traceback and keeps it in the failed registry. A store error's message is
    written for staff, so it goes as it is. Any other message can quote personal data (PostgreSQL:
    "Key (email)=(bob@example.com) already exists"), so RQ gets only the staff description, and
    the worker log gets where the error was raised, without its message.
    """
    if isinstance(exc, StoreError):
        return exc
    log.warning("%s failed with %s at:\n%s", what, type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)))
    return StoreError(describe_error(exc))


def record_failure(step_id, exc):
    db.session.rollback()
    step = db.session.get(Step, step_id)
    if step.state == "done":
        # The step's own work committed; what failed came after (scheduling the assembly),
        # which the reconciler schedules again.
        return
    step.error = describe_error(exc)
    if step.attempts < current_app.config["STEP_MAX_ATTEMPTS"]:
        step.state = "pending"  # RQ's retry (or the reconciler) runs it again
        db.session.commit()
        return
    step.state = "failed"
    data_request = lock(step.request_id)
    if data_request.state == "in_progress":
        where = step.store or step.phase
        transition(data_request, "needs_attention", "system",
                   reason=f"{where} failed after {step.attempts} attempts: {step.error}")
    db.session.commit()
    log.error("step %s of request %s failed for good", step_id, step.request_id)


def finish(step, state="done", **counts):
    step.state = state
    step.finished_at = utcnow() if state == "done" else None
    for name, value in counts.items():
        setattr(step, name, value)


def datamap():
    return load_datamap(current_app.config["STORES_CONFIG"])


def discover(step, data_request):
    """Resolve the person's identities across all stores, then fan out one step per store."""
    data_map = datamap()
    identities = resolve_identities(data_map, data_request.email)
    data_request.identities = {name: sorted(values) for name, values in identities.items()}
    existing = set(db.session.execute(
        db.select(Step.store).where(Step.request_id == data_request.id, Step.phase == "store")
    ).scalars())
    for config in data_map.stores:
        if config.name not in existing:
            db.session.add(Step(request_id=data_request.id, phase="store", store=config.name))
    finish(step)
    db.session.commit()
    pending = db.session.execute(
        db.select(Step.id).where(Step.request_id == data_request.id, Step.phase == "store",
                                 Step.state == "pending")
    ).scalars().all()
    for step_id in pending:
        enqueue_step(step_id)
    if not data_map.stores:
        schedule_assembly(data_request.id)
    return f"{len(data_map.stores)} store steps"


def store_step(step, data_request):
    """This store's part: stage its data, erase, or correct, by the request's type."""
    config = next((s for s in datamap().stores if s.name == step.store), None)
    if config is None:
        raise StoreError(f"store {step.store!r} is no longer in the data map")
    identities = {k: set(v) for k, v in (data_request.identities or {}).items()}
    store = make_store(config)
    try:
        work = store_work.WORK[data_request.request_type]
        waiting = work(step, data_request, store, identities)
    finally:
        store.close()
    finish(step, "waiting" if waiting else "done")
    db.session.commit()
    if not waiting:
        schedule_assembly(data_request.id)
    return step.state


def schedule_assembly(request_id):
    """Create and enqueue the assembly step once every store step is done (exactly once)."""
    data_request = lock(request_id)
    states = db.session.execute(
        db.select(Step.phase, Step.state).where(Step.request_id == request_id)
    ).all()
    if any(phase == "assemble" for phase, _ in states) or any(
            phase == "store" and state != "done" for phase, state in states):
        db.session.commit()
        return None
    step = Step(request_id=data_request.id, phase="assemble", store="")
    db.session.add(step)
    db.session.commit()
    enqueue_step(step.id)
    return step.id


def assemble(step, data_request):
    assembly.ASSEMBLE[data_request.request_type](step, data_request)
    return "completed"


PHASES = {"discover": discover, "store": store_step, "assemble": assemble}


def resolve_manual_step(step, actor, note, upload=None):
    """Staff finished a manual store's part by hand (an export uploaded, an erasure confirmed)."""
    data_request = lock(step.request_id)
    # Under the request's lock: a cancel or reject either lands first (and this refuses) or
    # waits for this commit, so nothing of the person's is staged for a closed request.
    if data_request.state not in WORKFLOW_STATES:
        raise ValueError(f"the request is {data_request.state.replace('_', ' ')}: a manual "
                         "step can be resolved only while its workflow runs")
    if step.state != "waiting":
        raise ValueError(f"step for {step.store} is {step.state}, not waiting for staff")
    if upload is not None and data_request.request_type in ("access", "export"):
        item = FileItem(store=step.store, path=upload.name, size=upload.stat().st_size,
                        open=lambda: upload.open("rb"))
        staged = stage_store(store_work.staging_dir(data_request), step.store, [item])
        store_work.publish_staged(data_request, step.store)
        step.files, step.bytes = staged.files, staged.bytes
    step.result = {**(step.result or {}), "resolved_by": actor, "note": note}
    finish(step)
    record(data_request, actor, "manual_step_resolved", reason=f"{step.store}: {note}")
    db.session.commit()
    return schedule_assembly(data_request.id)
