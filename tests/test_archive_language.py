"""What a person receives speaks the language they asked in: index.html, report.pdf and the
deletion certificate, made by a real RQ worker (real Redis, real SQLite stores), are Japanese
for a request made in Japanese and English for one made in English. Data values from the
stores and the data map stay as written.
"""
import sqlite3

import pytest
from helpers import run_worker, submit
from pdf_support import pdf_unicode_text
from test_export_portability import archive_of, request_of_type
from test_workflows import cli, confirm

from app.extensions import db
from app.models import Delivery
from app.storage import storage

DATAMAP = """\
[[stores]]
name = "accounts"
kind = "sql"
url = "sqlite:///{db}"
purpose = "Provide and secure your account"
categories = ["account", "contact details"]
recipients = ["Cloud infrastructure provider"]
retention = "Account lifetime + 90 days"
  [[stores.tables]]
  table = "users"
  match = {{ column = "email", identity = "email" }}
  provides = {{ user_id = "id" }}
  on_erase = "delete"
  [[stores.tables]]
  table = "invoices"
  match = {{ column = "user_id", identity = "user_id" }}
  on_erase = "retain"
  retain_reason = "Tax law: 7 years"
"""


@pytest.fixture
def shop_app(make_app, monkeypatch, tmp_path):
    """An app on one small store: Alice's account (erasable) and invoices (kept by law)."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
            CREATE TABLE invoices (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
                                   total REAL NOT NULL);
            INSERT INTO users VALUES (1, 'alice@example.com', '山田 花子');
            INSERT INTO invoices VALUES (1, 1, 1200);
        """)
    conn.close()
    stores = tmp_path / "stores.toml"
    stores.write_text(DATAMAP.format(db=path))
    monkeypatch.setenv("STORES_CONFIG", str(stores))
    monkeypatch.setenv("ARCHIVE_ENCRYPTION", "none")  # the worker processes read it too
    monkeypatch.setenv("STEP_RETRY_INTERVALS", "1")
    return make_app()


def ask(app, language, request_type, **fields):
    """Alice asks in `language`, confirms, and the worker does the rest (staff approve a
    deletion). Returns the finished request."""
    client = app.test_client()
    client.get(f"/?lang={language}")
    if request_type == "deletion":
        fields["confirm"] = "y"
    submit(client, email="alice@example.com", request_type=request_type, **fields)
    confirm(client, app)
    run_worker()
    data_request = request_of_type(app, request_type)
    if request_type == "deletion":
        cli(app, "requests", "approve", data_request.reference, "--by", "dpo@example.com")
        run_worker()
        data_request = request_of_type(app, request_type)
    assert data_request.locale == language
    assert data_request.state == "completed"
    return data_request


def certificate_of(app, data_request):
    with app.app_context():
        delivery = db.session.execute(
            db.select(Delivery).where(Delivery.request_id == data_request.id,
                                      Delivery.kind == "certificate")
        ).scalar_one()
        with storage().open(delivery.path) as handle:
            return handle.read()


def squeezed(pdf: bytes) -> str:
    """PDF text without whitespace: Japanese lines break anywhere, and each change of font
    (Japanese, Latin, bold) starts a new run."""
    return "".join(pdf_unicode_text(pdf).split())


def test_a_japanese_access_archive_is_in_japanese(shop_app):
    data_request = ask(shop_app, "ja", "access", region="japan")
    archive = archive_of(shop_app, data_request)

    index = archive.read("index.html").decode()
    assert '<html lang="ja">' in index
    assert "が保有するあなたのデータの写し" in index and "受付番号" in index
    assert "<dt>利用目的</dt><dd>Provide and secure your account</dd>" in index  # data as is
    assert "Your copy of your data" not in index and "report.pdf</strong> explains" not in index

    report = squeezed(archive.read("report.pdf"))
    for heading in ("あなたの個人データに関する報告書", "保存先ごとの保有データ", "あなたの権利",
                    "苦情の申立て先"):
        assert heading in report
    assert "個人情報保護委員会（日本）" in report  # the APPI's authority, in its own name
    assert "Provideandsecureyouraccount" in report and "Taxlaw:7years" in report
    assert "Yourrights" not in report and "Statementaboutyourpersonaldata" not in report


def test_an_english_access_archive_stays_english(shop_app):
    data_request = ask(shop_app, "en", "access")
    archive = archive_of(shop_app, data_request)

    index = archive.read("index.html").decode()
    assert '<html lang="en">' in index and "Your copy of your data from" in index
    assert "利用目的" not in index

    report = squeezed(archive.read("report.pdf"))
    assert "Statementaboutyourpersonaldata" in report and "Howtocomplain" in report
    assert "あなたの権利" not in report


def test_a_japanese_deletion_certificate_is_in_japanese(shop_app):
    data_request = ask(shop_app, "ja", "deletion")
    text = squeezed(certificate_of(shop_app, data_request))
    for heading in ("削除証明書", "消去したデータ", "保存しているデータとその理由", "バックアップ"):
        assert heading in text
    assert "accountsusers削除1" in text and "accountsinvoices1Taxlaw:7years" in text
    assert "年" in text and "月" in text and "日までに" in text  # the roll-off date, in Japanese
    assert "Certificateofdeletion" not in text and "Whatweerased" not in text


def test_an_english_deletion_certificate_stays_english(shop_app):
    data_request = ask(shop_app, "en", "deletion")
    text = squeezed(certificate_of(shop_app, data_request))
    assert "Certificateofdeletion" in text and "Whatwekept,andwhy" in text
    assert "削除証明書" not in text
