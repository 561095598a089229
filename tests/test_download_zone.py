"""The download page says when the window closes as the person's clock shows it, zone named."""
from datetime import datetime, timezone

from test_downloads import completed_with_archive

from app.extensions import db
from app.models import DataRequest, Delivery


def in_tokyo(app, path):
    with app.app_context():
        db.session.execute(db.update(DataRequest).values(timezone="Asia/Tokyo"))
        # 22:30 UTC on 8 March is 07:30 on 9 March in Tokyo: the UTC date is a day early.
        db.session.execute(db.update(Delivery).values(
            expires_at=datetime(2099, 3, 8, 22, 30, tzinfo=timezone.utc)))
        db.session.commit()
    return path


def test_available_until_is_the_persons_date_and_time_with_the_zone(client, app, tmp_path):
    path = in_tokyo(app, completed_with_archive(app, tmp_path))
    page = client.get(path).get_data(as_text=True)
    assert "2099-03-09 07:30 Japan Time</time>" in page
    assert "2099-03-08 " not in page  # the UTC date, a day early


def test_available_until_is_written_in_the_persons_language(client, app, tmp_path):
    path = in_tokyo(app, completed_with_archive(app, tmp_path))
    page = client.get(path + "?lang=ja").get_data(as_text=True)
    assert "2099年3月9日 7:30 日本時間</time>" in page
