"""Work files nobody will use: staged store parts and unfinished archives of closed requests.

A request's staged data (plain JSON, CSV and the person's files) is removed by the assembly
once its archive is safely recorded. It stayed behind, for good, when the request closed
another way: cancelled or rejected while its steps ran, or a worker dying between the commit
and the clean-up. An archive built while a cancel landed stayed too, with no download row to
expire it. Storage limitation covers the portal's own copies as much as the stores.

The sweep looks at requests closed in the last SWEEP_DAYS, every hour: a step still running
when its request closed may write after the first sweep, and deleting what is gone is free.
It also looks at every staging folder on this machine, whenever its request closed: a window
alone would keep for good whatever arrived after it (staff once could upload a manual store's
export to a request cancelled weeks before). The folder holds only unfinished requests' parts,
so listing it costs little.
"""
import shutil
from datetime import timedelta

from app.extensions import db
from app.models import CLOSED_STATES, DataRequest, utcnow
from app.storage import storage, work_dir

from .context import job
from .store_work import staging_dir, staging_key

SWEEP_DAYS = 2
# Expired requests were never verified, so nothing was ever staged for them.
SWEPT_STATES = [s for s in CLOSED_STATES if s != "expired"]
BATCH = 500


def closed_with_local_staging():
    """Closed requests that still have a staging folder on this machine, however old."""
    root = work_dir() / "staging"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for start in range(0, len(names), BATCH):
        found += db.session.execute(
            db.select(DataRequest).where(DataRequest.reference.in_(names[start:start + BATCH]),
                                         DataRequest.state.in_(SWEPT_STATES))
        ).scalars().all()
    return found


@job
def sweep_leftover_files(now=None):
    """Delete the leftovers of recently closed requests; returns how many requests it swept.

    Completed: only the staging (the archive or certificate is a delivery, expired by
    purge_expired_deliveries). Cancelled and rejected: everything under the request's
    reference too, since nothing of theirs is ever delivered.
    """
    now = now or utcnow()
    recent = db.session.execute(
        db.select(DataRequest)
        .where(DataRequest.state.in_(SWEPT_STATES),
               DataRequest.closed_at > now - timedelta(days=SWEEP_DAYS))
        .order_by(DataRequest.id)
    ).scalars().all()
    closed = {r.id: r for r in [*recent, *closed_with_local_staging()]}
    closed = [closed[key] for key in sorted(closed)]
    files = storage()
    for data_request in closed:
        files.delete(staging_key(data_request))
        shutil.rmtree(staging_dir(data_request), ignore_errors=True)
        if data_request.state != "completed":
            files.delete(data_request.reference)
            shutil.rmtree(work_dir() / data_request.reference, ignore_errors=True)
    return len(closed)
