"""Download links: a GET shows a button, only the POST counts; limits and windows end in 410."""
from datetime import timedelta

from helpers import csrf_token

from app.audit import record
from app.extensions import db
from app.models import AuditEvent, DataRequest, Delivery, utcnow
from app.storage import storage
from app.tokens import make_link_token


def completed_with_archive(app, tmp_path, max_downloads=2, expires_in=timedelta(days=7)):
    path = tmp_path / "dsr.zip"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    with app.test_request_context():
        now = utcnow()
        data_request = DataRequest(
            request_type="access", region="eu", regime="gdpr", email="a@example.com",
            name="A", state="completed", received_at=now, verified_at=now, due_at=now,
            closed_at=now)
        db.session.add(data_request)
        db.session.flush()
        record(data_request, "system", "completed")
        key = f"{data_request.reference}/dsr.zip"
        storage().put_file(path, key)
        db.session.add(Delivery(request_id=data_request.id, kind="archive", path=key,
                                bytes=22, sha256="0" * 64, expires_at=now + expires_in,
                                downloads=0, max_downloads=max_downloads))
        db.session.commit()
        return "/download/" + make_link_token("download", data_request.reference, kind="archive")


def post(client, path):
    return client.post(path, data={"csrf_token": csrf_token(client, "/requests/new")})


def test_get_does_not_count_and_post_downloads_until_the_limit(client, app, tmp_path):
    path = completed_with_archive(app, tmp_path, max_downloads=2)
    for _ in range(3):
        page = client.get(path)
        assert page.status_code == 200 and b"2 of 2" in page.data
    assert post(client, path).data.startswith(b"PK")
    assert post(client, path).status_code == 200
    refused = post(client, path)
    assert refused.status_code == 410 and b"used up" in refused.data
    assert client.get(path).status_code == 410
    with app.app_context():
        assert db.session.execute(db.select(Delivery.downloads)).scalar_one() == 2
        downloads = db.session.query(AuditEvent).filter_by(action="downloaded").count()
        assert downloads == 2


def test_a_file_missing_from_storage_is_a_410_and_costs_no_download(client, app, tmp_path):
    """Counted first and sent second, a lost file was a 500 that also spent a download and
    wrote a 'downloaded' audit event for a download that never happened."""
    path = completed_with_archive(app, tmp_path, max_downloads=2)
    with app.app_context():
        storage().delete(db.session.execute(db.select(Delivery.path)).scalar_one())
    response = post(client, path)
    assert response.status_code == 410 and b"This download has expired" in response.data
    with app.app_context():
        assert db.session.execute(db.select(Delivery.downloads)).scalar_one() == 0
        assert db.session.query(AuditEvent).filter_by(action="downloaded").count() == 0


def test_expired_download_is_a_410_page_in_words(client, app, tmp_path):
    path = completed_with_archive(app, tmp_path, expires_in=timedelta(seconds=-1))
    response = client.get(path)
    assert response.status_code == 410
    assert b"This download has expired" in response.data
    assert b"Send me a new link" not in response.data


def test_download_token_of_another_request_or_purpose_is_refused(client, app, tmp_path):
    path = completed_with_archive(app, tmp_path)
    token = path.removeprefix("/download/")
    assert client.get(f"/status/{token}").status_code == 400
    assert client.get(path[:-2] + "xx").status_code == 400
    with app.test_request_context():
        other = make_link_token("download", "DSR-0000-0000", kind="archive")
        status_token = make_link_token("status", "DSR-0000-0000")
    assert client.get(f"/download/{other}").status_code == 400
    assert client.get(f"/download/{status_token}").status_code == 400


def test_expired_downloads_are_deleted_by_the_housekeeping_command(app, tmp_path):
    completed_with_archive(app, tmp_path, expires_in=timedelta(seconds=-1))
    result = app.test_cli_runner().invoke(args=["requests", "expire"])
    assert "1 download(s) past their window deleted" in result.output
    with app.app_context():
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        assert delivery.deleted_at is not None
        assert not storage().local_path(delivery.path).exists()


def test_passphrase_is_shown_once_on_a_post_and_never_on_a_get(client, app, tmp_path):
    path = completed_with_archive(app, tmp_path)
    with app.app_context():
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        delivery.passphrase = "ABCDE-FGHJK-MNPQR-STVWX-YZ012"
        db.session.commit()
    page = client.get(path)
    assert b"ABCDE-FGHJK" not in page.data and b"Show the passphrase" in page.data
    shown = post(client, path)
    assert shown.status_code == 200 and b"ABCDE-FGHJK-MNPQR-STVWX-YZ012" in shown.data
    assert shown.headers["Cache-Control"] == "no-store"
    again = post(client, path)
    assert again.data.startswith(b"PK")  # the second press downloads; the phrase is gone
    with app.app_context():
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        assert delivery.passphrase is None and delivery.downloads == 1
