"""Redis and RQ wiring. The database is the source of truth; this only carries work.

Jobs are enqueued by dotted name with ids, never ORM objects, after the transaction that made
them necessary has committed. If Redis is down at that moment nothing is lost: the reconciler
finds the database rows that still need work and enqueues them again.
"""
import logging
import threading

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

log = logging.getLogger(__name__)

_CLIENT_LOCK = threading.Lock()


def redis_connection(app=None):
    """The app's one Redis client (thread-safe: its pool gives each thread a connection).

    Made under a lock: when the first requests of a new process arrived together, each made
    its own client and all but one were dropped at once - and a client made by `from_url`
    closes its pool when collected, tearing down the connection its thread's command was
    still using (seen as 500s: "Bad file descriptor", "I/O operation on closed file", or
    AttributeError on the torn-down buffer).
    """
    app = app or current_app
    conn = app.extensions.get("dsr_redis")
    if conn is None:
        with _CLIENT_LOCK:
            conn = app.extensions.get("dsr_redis")
            if conn is None:
                conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                      socket_timeout=5)
                app.extensions["dsr_redis"] = conn
    return conn


def queue(app=None):
    app = app or current_app
    return Queue(app.config["RQ_QUEUE"], connection=redis_connection(app))


def enqueue(func_path, *args, job_id=None, retry=None, **kwargs):
    """Enqueue a job; on a Redis failure log and return None (the reconciler will catch up)."""
    try:
        # One pipeline for the whole enqueue: on its own RQ makes two round trips to Redis,
        # which is a tenth of what an intake POST costs.
        pipe = redis_connection().pipeline()
        job = queue().enqueue(
            func_path, *args, job_id=job_id,
            retry=retry or Retry(max=5, interval=[10, 30, 60, 300, 900]), pipeline=pipe,
            **kwargs,
        )
        pipe.execute()
        return job
    except RedisError as exc:
        log.warning("could not enqueue %s: %s (the reconciler will retry)", func_path,
                    type(exc).__name__)
        return None


def enqueue_step(step_id):
    """Enqueue one workflow step; its job id is derived from the step so it is never doubled."""
    config = current_app.config
    intervals = config["STEP_RETRY_INTERVALS"]
    return enqueue(
        "workflows.steps.run_step", step_id, job_id=f"step-{step_id}",
        retry=Retry(max=max(config["STEP_MAX_ATTEMPTS"] - 1, 1), interval=intervals),
        job_timeout=config["STEP_TIMEOUT_SECONDS"],
    )
