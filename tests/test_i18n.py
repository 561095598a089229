"""Japanese and English: the language follows the browser, the switch overrides it, emails
follow the language the request was made in, dates are written the reader's way."""
import re

from helpers import csrf_token, submit
from test_links import verify_path

from app import deadlines
from app.extensions import db
from app.mail import bodies, queue_mail
from app.models import DataRequest, MailMessage

JA = {"Accept-Language": "ja,en;q=0.5"}


def test_language_follows_the_browser(client):
    japanese = client.get("/", headers=JA).get_data(as_text=True)
    assert '<html lang="ja">' in japanese and "あなたのデータに関する権利" in japanese
    english = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Your rights over your data" in english


def test_switch_on_every_page_overrides_the_browser_for_the_visit(client):
    for page in ("/", "/requests/new", "/requests/sent", "/verify/bad-token"):
        html = client.get(page, headers=JA).get_data(as_text=True)
        assert f'href="{page}?lang=en"' in html and f'href="{page}?lang=ja"' in html, page
    assert "Your rights" in client.get("/?lang=en", headers=JA).get_data(as_text=True)
    assert "Make a privacy request" in client.get("/requests/new", headers=JA).get_data(
        as_text=True)  # remembered for the rest of the visit


def test_the_language_switch_never_links_off_site(client):
    """A crafted 404 path must not turn the switch into a link to another host."""
    for crafted in ("/%5Cevil.example/x", "/%5C%5Cevil.example/x", "/%5C/evil.example/x",
                    "/%09/evil.example/x", "/%0A/evil.example/x"):
        html = client.get(crafted).get_data(as_text=True)
        links = re.findall(r'href="([^"]*\?lang=ja)"', html)
        assert len(links) == 1 and not links[0].startswith("//"), (crafted, links)
        assert "\t" not in links[0] and "\n" not in links[0] and "\\" not in links[0]


def test_form_errors_are_in_japanese(client, app):
    client.get("/?lang=ja")
    response = submit(client, email="not-an-email", request_type="deletion")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "name@example.com のような正しいメールアドレス" in html
    assert "元に戻せないことを理解した旨" in html


def test_wtforms_own_messages_follow_each_visitors_language(app):
    """WTForms' catalog is loaded once per language and kept: one server process answers a
    Japanese and an English visitor, each in their own language, in either order."""
    japanese, english = app.test_client(), app.test_client()
    japanese.get("/?lang=ja")
    english.get("/?lang=en")
    for _ in range(2):
        for client, text in ((japanese, "選択肢が正しくありません。"),
                             (english, "Not a valid choice.")):
            response = submit(client, region="mars")
            assert response.status_code == 400 and text in response.get_data(as_text=True)


def test_request_made_in_japanese_gets_japanese_email_and_dates(client, app):
    client.get("/?lang=ja")
    assert submit(client, email="kenji@example.com", name="山田 健二", region="japan",
                  timezone="Asia/Tokyo").status_code == 303
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        assert data_request.locale == "ja"
        mail = db.session.execute(db.select(MailMessage)).scalar_one()
        assert mail.subject == f"プライバシーに関するリクエスト {data_request.reference} のご確認"
        text = bodies(mail)[0]  # rendered as the worker will, outside any page request
        assert "ご依頼の内容は「開示」です" in text and "山田" not in text
    path = verify_path(app)
    status = client.post(path, data={"csrf_token": csrf_token(client, path)})
    page = client.get(status.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        due = deadlines.local_date(data_request.due_at, "Asia/Tokyo")
        ack = db.session.execute(
            db.select(MailMessage).where(MailMessage.kind == "acknowledge")).scalar_one()
    japanese_date = f"{due.year}年{due.month}月{due.day}日"
    assert japanese_date in page and "対応中" in page
    assert japanese_date in ack.body_text


def test_english_request_stays_english_even_if_the_worker_runs_elsewhere(client, app):
    submit(client, email="alice@example.com")
    with app.app_context():
        mail = db.session.execute(db.select(MailMessage)).scalar_one()
        text = bodies(mail)[0]
    assert mail.subject.startswith("Confirm your privacy request")
    assert re.search(r"for this email address at \S+\. It asks for access\.", text)


def test_staff_decisions_reach_a_japanese_requester_in_japanese(client, app):
    client.get("/?lang=ja")
    submit(client, email="kenji@example.com", name="山田 健二", region="japan")
    with app.test_request_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        rejected = queue_mail(data_request, "rejected", reason="本人確認ができませんでした",
                              authority="Personal Information Protection Commission",
                              authority_url=None)
        extended = queue_mail(data_request, "extended", reason="調査に時間を要するため",
                              new_due=data_request.due_at, old_due=data_request.received_at)
    assert "には対応できません" in rejected.body_text and "理由：" in rejected.body_text
    assert "苦情を申し立てる権利" in rejected.body_text
    assert "新しい期限" in extended.body_text and "年" in extended.body_text
    assert rejected.subject.endswith("をお受けできませんでした")
