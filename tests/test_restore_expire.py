"""Files past their time go for good: a download's whole <REFERENCE>/ folder (partial files a
killed build left included) when its window closes, again after a backup of ARCHIVE_DIR brings
them back (`requests expire`, as OPERATIONS says), and no partial copy when a copy fails."""
import errno
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_downloads import completed_with_archive
from test_staff_access import make_request

from app import storage as storage_module
from app.extensions import db
from app.models import DataRequest, Delivery, utcnow
from app.storage import LocalStorage, storage
from workflows.expiry import purge_expired_deliveries


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())


def expire(app):
    result = app.test_cli_runner().invoke(args=["requests", "expire"])
    assert result.exit_code == 0, result.output
    return result.output


def reference_of(app, request_id):
    with app.app_context():
        return db.session.get(DataRequest, request_id).reference


def newest_with_archive(app, tmp_path, **kw):
    tmp_path.mkdir(exist_ok=True)
    completed_with_archive(app, tmp_path, **kw)
    with app.app_context():
        return db.session.execute(db.select(DataRequest.id).order_by(DataRequest.id.desc())
                                  ).scalars().first()


def stage(root, reference):
    part = root / "staging" / reference / "accounts"
    part.mkdir(parents=True, exist_ok=True)
    (part / "users.json").write_text('[{"email": "alice@example.com"}]')


def test_an_expired_download_takes_its_whole_folder_with_it_partials_included(app, tmp_path):
    archives = Path(app.config["ARCHIVE_DIR"])
    request_id = newest_with_archive(app, tmp_path, expires_in=timedelta(seconds=-1))
    reference = reference_of(app, request_id)
    # A build killed before its rename, and a copy killed mid-way, left these.
    (archives / reference / f".dsr-{reference}.zip.k1ll3d.part").write_bytes(b"PK-half")
    (archives / reference / ".dsr.zip.c0py.part").write_bytes(b"PK-half")
    with app.app_context():
        assert purge_expired_deliveries() == 1
    assert not (archives / reference).exists()


def test_requests_expire_after_a_restore_deletes_what_the_backup_brought_back(app, tmp_path):
    archives = Path(app.config["ARCHIVE_DIR"])
    gone = newest_with_archive(app, tmp_path / "a", expires_in=timedelta(seconds=-1))
    delivering = newest_with_archive(app, tmp_path / "b")
    cancelled = make_request(app, request_type="access", state="cancelled")
    still_open = make_request(app, request_type="access", state="in_progress")
    with app.app_context():  # closed long ago: the hourly leftovers sweep is long past it
        db.session.get(DataRequest, cancelled).closed_at = utcnow() - timedelta(days=60)
        db.session.commit()
    refs = {name: reference_of(app, rid) for name, rid in (
        ("gone", gone), ("delivering", delivering), ("cancelled", cancelled),
        ("open", still_open))}
    for reference in refs.values():
        stage(archives, reference)
    (archives / refs["cancelled"]).mkdir(mode=0o700)
    (archives / refs["cancelled"] / f"dsr-{refs['cancelled']}.zip").write_bytes(b"PK")
    backup = tmp_path / "backup"
    shutil.copytree(archives, backup)

    assert "1 download(s) past their window deleted" in expire(app)
    shutil.copytree(backup, archives, dirs_exist_ok=True)  # the restore
    expire(app)
    with app.app_context():
        assert db.session.execute(
            db.select(db.func.count()).select_from(Delivery)
            .where(Delivery.deleted_at.is_not(None))).scalar_one() == 1
    kept = [f"{refs['delivering']}/dsr.zip", f"staging/{refs['open']}/accounts/users.json"]
    assert files_under(archives) == sorted(kept)
    folders = sorted(p.name for p in archives.iterdir())
    assert folders == sorted([refs["delivering"], "staging"])  # no empty <REFERENCE>/ left
    expire(app)  # again: nothing left to delete, no error
    assert files_under(archives) == sorted(kept)


def test_a_failed_copy_leaves_no_partial_file(app, tmp_path, monkeypatch):
    source = tmp_path / "dsr-R1.zip"
    source.write_bytes(b"PK" * 1000)

    def disk_full(src, dst, length=0):
        dst.write(src.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_module.shutil, "copyfileobj", disk_full)
    files = LocalStorage(tmp_path / "shared")
    with pytest.raises(OSError):
        files.put_file(source, "R1/dsr-R1.zip")
    assert files_under(tmp_path / "shared") == []
    with app.app_context():
        assert storage().exists("R1/dsr-R1.zip") is False
