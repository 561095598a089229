"""The reconciler: compare what the database says must happen with what RQ holds, and fix gaps.

Run by the cron every minute. Redis is only a carrier: if a job vanished (worker SIGKILLed,
Redis flushed or restarted) the database row still says the work is due, and it is enqueued
again. Jobs are idempotent and claim their row first, so enqueueing one that is in fact still
alive costs nothing but a no-op run.
"""
import logging
from datetime import UTC, timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from app.api.opendsr import enqueue_callback
from app.extensions import db
from app.lifecycle import lock, transition
from app.mail import DELIVER_MAIL, mail_job_id
from app.models import DataRequest, Step, utcnow
from app.queue import enqueue, enqueue_step, queue, redis_connection

from .callbacks import callbacks_to_revive
from .context import job
from .mail_jobs import stale_mail_ids
from .steps import schedule_assembly

log = logging.getLogger(__name__)


def stale_after():
    """A started job with no heartbeat for this long has lost its worker (STALE_JOB_SECONDS)."""
    return timedelta(seconds=current_app.config["STALE_JOB_SECONDS"])


def job_is_alive(job_id, running=False):
    """Whether RQ will still run (or is running) this job. With `running`, the work is claimed
    already, so only a started job with a fresh heartbeat counts: a retry RQ scheduled for it
    would find the row claimed and do nothing."""
    try:
        rq_job = Job.fetch(job_id, connection=redis_connection())
        status = rq_job.get_status(refresh=True)
    except NoSuchJobError:
        return False
    if status == JobStatus.STARTED:
        beat = rq_job.last_heartbeat
        return beat is not None and utcnow() - beat.replace(tzinfo=UTC) < stale_after()
    if running:
        return False
    if status == JobStatus.SCHEDULED:
        # A retry past its time that no scheduler has moved is lost too: the worker holding
        # RQ's scheduler lock may have died, and the lock outlives it by a minute.
        try:
            due = ScheduledJobRegistry(queue=queue()).get_scheduled_time(rq_job)
        except NoSuchJobError:
            return False
        return utcnow() - due < stale_after()
    if status == JobStatus.QUEUED:
        # Popped by a worker that died before marking it started, a job still says "queued"
        # but sits in RQ's intermediate list, which RQ sweeps only much later.
        return queue().get_job_position(rq_job) is not None
    return status == JobStatus.DEFERRED


def ensure_enqueued(func_path, arg, job_id):
    if job_is_alive(job_id):
        return False
    enqueue(func_path, arg, job_id=job_id)
    return True


def open_steps():
    return db.session.execute(
        db.select(Step).join(DataRequest)
        .where(DataRequest.state == "in_progress", Step.state.in_(["pending", "running"]))
        .order_by(Step.id)
    ).scalars().all()


def revive_step(step):
    """Re-enqueue a step whose job is gone; a step that keeps killing workers stops here."""
    if job_is_alive(f"step-{step.id}", running=step.state == "running"):
        return False
    if step.state == "running":
        if step.attempts >= current_app.config["STEP_MAX_ATTEMPTS"]:
            step.state, step.error = "failed", "the worker died on every attempt"
            data_request = lock(step.request_id)
            transition(data_request, "needs_attention", "system",
                       reason=f"{step.store or step.phase}: {step.error}")
            db.session.commit()
            return False
        step.state = "pending"  # its worker died mid-step; the attempt stays counted
    db.session.commit()
    enqueue_step(step.id)
    return True


def stalled_assemblies():
    """In-progress requests whose store steps are all done but that have no assembly step."""
    has_assembly = db.select(Step.id).where(Step.request_id == DataRequest.id,
                                            Step.phase == "assemble").exists()
    unfinished = db.select(Step.id).where(Step.request_id == DataRequest.id,
                                          Step.state != "done").exists()
    has_steps = db.select(Step.id).where(Step.request_id == DataRequest.id,
                                         Step.phase == "store").exists()
    return db.session.execute(
        db.select(DataRequest.id).where(DataRequest.state == "in_progress", has_steps,
                                        ~has_assembly, ~unfinished)
    ).scalars().all()


def stuck_requests(*only):
    """In-progress requests (of `only`, if given) with a failed step and no step left to run
    (pending, running, waiting for staff): nothing would finish them, nor start the assembly."""
    failed = db.select(Step.id).where(Step.request_id == DataRequest.id,
                                      Step.state == "failed").exists()
    still_open = db.select(Step.id).where(Step.request_id == DataRequest.id,
                                          Step.state.in_(["pending", "running", "waiting"])
                                          ).exists()
    query = db.select(DataRequest.id).where(DataRequest.state == "in_progress", failed,
                                            ~still_open)
    if only:
        query = query.where(DataRequest.id.in_(only))
    return db.session.execute(query).scalars().all()


def flag_stuck(request_id):
    """Put a stuck request before staff. Not re-queued: a failed step has used its attempts
    (or was stopped on purpose), so running it again unasked could loop on a store that keeps
    failing; needs_attention is where failed steps wait for Retry."""
    data_request = lock(request_id)
    if data_request is None or not stuck_requests(request_id):  # a Retry may have come first
        db.session.rollback()
        return False
    transition(data_request, "needs_attention", "system",
               reason="a step failed and no other step is left to run")
    db.session.commit()
    return True


def revive_callback(callback):
    """Re-enqueue a callback whose job is gone (a `sending` one lost its worker mid-POST)."""
    if job_is_alive(f"callback-{callback.id}"):
        return False
    if callback.state == "sending":
        callback.state = "queued"
        db.session.commit()
    enqueue_callback(callback.id)
    return True


@job
def reconcile():
    """Re-enqueue every piece of due work whose job is gone; returns how many were re-enqueued."""
    requeued = 0
    for mail_id in stale_mail_ids():
        requeued += ensure_enqueued(DELIVER_MAIL, mail_id, mail_job_id(mail_id))
    for step in open_steps():
        requeued += revive_step(step)
    for callback in callbacks_to_revive():
        requeued += revive_callback(callback)
    for request_id in stalled_assemblies():
        requeued += schedule_assembly(request_id) is not None
    for request_id in stuck_requests():
        if flag_stuck(request_id):
            log.warning("request %s had a failed step and nothing left to run: "
                        "needs attention", request_id)
    if requeued:
        log.info("reconciler re-enqueued %d job(s)", requeued)
    return requeued
