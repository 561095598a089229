"""One deadline is written one way, zone named the reader's way, in the verify email, on the
download page and in the documents (app.locales.local_moment). Real SQLite, the real mail renderer
and the real page."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from test_downloads import completed_with_archive
from test_staff_access import make_request

from app.extensions import db
from app.intake import send_verify_link
from app.locales import in_locale, local_moment
from app.mail import bodies
from app.models import DataRequest, Delivery, MailMessage, utcnow
from workflows.document_language import written_date


def tokyo_wording(moment, language):
    local = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    if language == "en":
        return f"{local:%Y-%m-%d %H:%M} Japan Time"
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local:%M} 日本時間"


def verify_mail_text(app, deadline, language):
    """The verify email of a request in Tokyo whose unconfirmed window closes at `deadline`."""
    request_id = make_request(app, state="pending_verification", timezone="Asia/Tokyo",
                              locale=language)
    with app.test_request_context():
        data_request = db.session.get(DataRequest, request_id)
        data_request.received_at = deadline - timedelta(days=app.config["UNVERIFIED_EXPIRY_DAYS"])
        send_verify_link(data_request)
        db.session.commit()
        message = db.session.execute(db.select(MailMessage).where(
            MailMessage.request_id == request_id, MailMessage.kind == "verify")).scalar_one()
        return " ".join(bodies(message)[0].split())


def download_page(client, app, tmp_path, deadline, language):
    path = completed_with_archive(app, tmp_path)
    with app.app_context():
        db.session.execute(db.update(DataRequest).where(DataRequest.state == "completed")
                           .values(timezone="Asia/Tokyo"))
        db.session.execute(db.update(Delivery).values(expires_at=deadline))
        db.session.commit()
    return client.get(f"{path}?lang={language}").get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_one_deadline_reads_the_same_in_the_email_the_page_and_the_documents(
        client, app, tmp_path, language):
    # Within the link's lifetime, so that the email names the moment rather than a duration.
    deadline = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    wording = tokyo_wording(deadline, language)

    assert wording in verify_mail_text(app, deadline, language)
    assert f">{wording}</time>" in download_page(client, app, tmp_path, deadline, language)
    with app.app_context(), in_locale(language):
        assert written_date(deadline.isoformat(), "Asia/Tokyo") == wording


@pytest.mark.parametrize("zone_name, en, ja", [
    ("Asia/Tokyo", "Japan Time", "日本時間"),
    ("Europe/Berlin", "Central European Time", "中央ヨーロッパ時間"),
    ("UTC", "UTC", "UTC"),
    ("Not/AZone", "UTC", "UTC"),          # what a browser reported that no one knows: UTC
    (None, "UTC", "UTC"),
    ("Etc/GMT+5", "Etc/GMT+5", "Etc/GMT+5"),  # no place to name: the IANA id, not "Unknown Region"
])
def test_a_zone_is_named_the_readers_way_or_by_its_iana_id(zone_name, en, ja):
    moment = utcnow()
    assert local_moment(moment, zone_name, "en").endswith(f" {en}")
    assert local_moment(moment, zone_name, "ja").endswith(f" {ja}")
