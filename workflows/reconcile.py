"""The reconciler: compare what the database says must happen with what RQ holds, and fix gaps.

Run by the cron every minute. Redis is only a carrier: if a job vanished (worker SIGKILLed,
Redis flushed or restarted) the database row still says the work is due, and it is enqueued
again. Jobs are idempotent, so enqueueing one that is in fact still alive costs nothing but time.
"""
import logging

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.queue import enqueue, redis_connection

from .context import job
from .mail_jobs import stale_mail_ids

log = logging.getLogger(__name__)
ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def job_is_alive(job_id):
    try:
        status = Job.fetch(job_id, connection=redis_connection()).get_status(refresh=True)
    except NoSuchJobError:
        return False
    return status in ALIVE


def ensure_enqueued(func_path, arg, job_id):
    if job_is_alive(job_id):
        return False
    enqueue(func_path, arg, job_id=job_id)
    return True


@job
def reconcile():
    """Re-enqueue every piece of due work whose job is gone; returns how many were re-enqueued."""
    requeued = 0
    for mail_id in stale_mail_ids():
        requeued += ensure_enqueued("workflows.mail_jobs.deliver_mail", mail_id, f"mail-{mail_id}")
    if requeued:
        log.info("reconciler re-enqueued %d job(s)", requeued)
    return requeued
