"""Give every RQ job an application context and a database connection of its own.

Jobs receive ids, never ORM objects (SecureDrop's rule), and open their own session. RQ forks a
work-horse per job: a connection inherited from the parent would be shared by two processes, so
the pool is discarded (without closing the parent's sockets) the first time a new process runs
a job.
"""
import functools
import os

from flask import has_app_context

from app.extensions import db

_app = None
_pool_pid = None


def _application():
    global _app
    if _app is None:
        # Imported here because app's CLI imports workflows: only a bare `rq worker` (no
        # Flask CLI around it) needs to build the app itself.
        from app.factory import create_app

        _app = create_app()
    return _app


def _fresh_pool_after_fork():
    global _pool_pid
    if _pool_pid != os.getpid():
        for engine in db.engines.values():
            engine.dispose(close=False)
        _pool_pid = os.getpid()


def job(func):
    """Run `func` inside an app context, with its own database session, cleaned up afterwards."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return _run(func, args, kwargs)
        with _application().app_context():
            return _run(func, args, kwargs)

    return wrapper


def _run(func, args, kwargs):
    _fresh_pool_after_fork()
    try:
        return func(*args, **kwargs)
    finally:
        db.session.remove()
