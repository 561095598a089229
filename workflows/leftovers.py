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
from app.models import CLOSED_STATES, DataRequest, Delivery, utcnow
from app.storage import storage, work_dir

from .context import job
from .store_work import staging_dir, staging_key

SWEEP_DAYS = 2
# Expired requests were never verified: nothing was ever staged or built for them.
STAGED_CLOSED_STATES = tuple(s for s in CLOSED_STATES if s != "expired")
BATCH = 500


def open_download(request_id, but=None):
    """EXISTS a download of the request still open (other than delivery `but`): while one is,
    the request's <REFERENCE>/ folder stays. The sweep and the expiry of a download ask it."""
    query = db.select(Delivery.id).where(Delivery.request_id == request_id,
                                         Delivery.deleted_at.is_(None))
    if but is not None:
        query = query.where(Delivery.id != but)
    return query.exists()


def closed_with_files():
    """A select of closed requests' (id, reference, delivering): whether a download of the
    request is still open, so its <REFERENCE>/ folder must stay. Narrow it with .where()."""
    delivering = open_download(DataRequest.id)
    return (db.select(DataRequest.id, DataRequest.reference, delivering.label("delivering"))
            .where(DataRequest.state.in_(STAGED_CLOSED_STATES))
            .order_by(DataRequest.id))


def remove_request_files(closed):
    """Remove what the portal holds of a closed request (a row of ``closed_with_files``):
    its staging, in storage and on this machine, and, unless a download of it is still open,
    its whole <REFERENCE>/ folder (an archive or certificate whose window closed, partial
    files, what a cancelled request's build left). Removing what is gone is free."""
    storage().delete(staging_key(closed))
    shutil.rmtree(staging_dir(closed), ignore_errors=True)
    if not closed.delivering:
        remove_reference_folder(closed.reference)


def remove_reference_folder(reference):
    """The request's <REFERENCE>/ folder in storage and, with a WORK_DIR of its own, this
    machine's build folder too (another machine's stays)."""
    storage().delete(reference)
    shutil.rmtree(work_dir() / reference, ignore_errors=True)


def closed_with_local_staging():
    """Closed requests that still have a staging folder on this machine, however old."""
    root = work_dir() / "staging"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for start in range(0, len(names), BATCH):
        found += db.session.execute(
            closed_with_files().where(DataRequest.reference.in_(names[start:start + BATCH]))
        ).all()
    return found


@job
def sweep_leftover_files(now=None):
    """Remove the files of recently closed requests (``remove_request_files``); returns how
    many requests it swept.

    A completed request's staging goes, its delivery stays until purge_expired_deliveries
    expires it; a cancelled or rejected one, never delivered, loses its <REFERENCE>/ folder too.
    """
    now = now or utcnow()
    recent = db.session.execute(
        closed_with_files().where(DataRequest.closed_at > now - timedelta(days=SWEEP_DAYS))
    ).all()
    closed = {row.id: row for row in [*recent, *closed_with_local_staging()]}
    for request_id in sorted(closed):
        remove_request_files(closed[request_id])
    return len(closed)
