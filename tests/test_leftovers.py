"""Work files of closed requests are swept: staged store parts and unfinished archives of a
cancelled request, and the staging a crash left behind after an archive was delivered (the
archive itself stays while its download is open)."""
from datetime import timedelta

from test_staff_access import make_request

from app.extensions import db
from app.models import DataRequest, Delivery, utcnow
from app.storage import storage, work_dir
from workflows.leftovers import sweep_leftover_files
from workflows.store_work import staging_dir, staging_key


def leave_files(app, request_id, delivered=False):
    """What a run leaves: a store's staged part in storage and on this machine, an archive."""
    with app.app_context():
        data_request = db.session.get(DataRequest, request_id)
        part = staging_dir(data_request) / "accounts"
        part.mkdir(parents=True)
        (part / "users.json").write_text('[{"email": "alice@example.com"}]')
        storage().put_tree(part, f"{staging_key(data_request)}/accounts")
        archive = work_dir() / "upload" / f"dsr-{data_request.reference}.zip"
        archive.parent.mkdir(exist_ok=True)
        archive.write_bytes(b"PK-bytes")
        key = f"{data_request.reference}/{archive.name}"
        storage().put_file(archive, key)
        if delivered:
            db.session.add(Delivery(request_id=request_id, kind="archive", path=key, bytes=8,
                                    sha256="0" * 64, downloads=0, max_downloads=3,
                                    expires_at=utcnow() + timedelta(days=7)))
            db.session.commit()
        return data_request, key


def test_closed_requests_lose_their_work_files_and_delivered_archives_stay(app):
    cancelled = make_request(app, request_type="access", state="cancelled")
    completed = make_request(app, request_type="access", state="completed")
    still_open = make_request(app, request_type="access", state="in_progress")
    long_ago = make_request(app, request_type="access", state="cancelled")
    with app.app_context():
        db.session.get(DataRequest, long_ago).closed_at = utcnow() - timedelta(days=30)
        db.session.commit()
    left = {rid: leave_files(app, rid, delivered=rid == completed)
            for rid in (cancelled, completed, still_open, long_ago)}

    with app.app_context():
        # The cancelled and the completed one, and the month-old one whose staging folder is
        # still on disk: a window alone would keep it for good.
        assert sweep_leftover_files() == 3
        files = storage()

        def staged(rid):
            data_request = db.session.get(DataRequest, rid)
            return (files.exists(f"{staging_key(data_request)}/accounts/users.json")
                    or staging_dir(data_request).exists())

        assert not staged(cancelled) and not files.exists(left[cancelled][1])
        # Completed: the staging goes, the delivered archive waits for its download window.
        assert not staged(completed) and files.exists(left[completed][1])
        # Open: its workflow still needs everything.
        assert staged(still_open) and files.exists(left[still_open][1])
        assert not staged(long_ago) and not files.exists(left[long_ago][1])
        assert sweep_leftover_files() == 2  # again: nothing left to delete, no error
