"""The texts a company writes in its data map reach a person in their language: a request made
in Japanese gets the map's Japanese purpose, categories, recipients and retention in
index.html and report.pdf, and the Japanese reason for each kept table on the deletion
certificate, made by a real RQ worker on real SQLite stores. A request in English gets the
documents it always got.
"""
import datetime as dt
import io
import sqlite3
from types import SimpleNamespace

import pytest
from pdf_support import pdf_unicode_text
from test_archive_language import DATAMAP, ask, certificate_of, squeezed
from test_export_portability import archive_of

from workflows.assembly import statement
from workflows.certificate import certificate_facts, deletion_certificate
from workflows.reports import art15_report

# test_archive_language's map, with Japanese texts for the store and the kept table.
TRANSLATED = DATAMAP.replace('retention = "Account lifetime + 90 days"\n', """\
retention = "Account lifetime + 90 days"
translations.ja.purpose = "アカウントの提供と保護"
translations.ja.categories = ["アカウント情報", "連絡先"]
translations.ja.recipients = ["クラウドインフラ事業者"]
translations.ja.retention = "アカウントの存続期間および削除後90日間"
""").replace('retain_reason = "Tax law: 7 years"\n', """\
retain_reason = "Tax law: 7 years"
  translations.ja.retain_reason = "税法上の義務により7年間保存します"
""")
PLAIN = DATAMAP


def make_shop(tmp_path, datamap):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL,
                                              name TEXT);
            CREATE TABLE IF NOT EXISTS invoices (id INTEGER PRIMARY KEY,
                                                 user_id INTEGER NOT NULL, total REAL NOT NULL);
            INSERT OR IGNORE INTO users VALUES (1, 'alice@example.com', '山田 花子');
            INSERT OR IGNORE INTO invoices VALUES (1, 1, 1200);
        """)
    conn.close()
    stores = tmp_path / "stores.toml"
    stores.write_text(datamap.format(db=path), encoding="utf-8")
    return stores


@pytest.fixture
def shop_app(make_app, monkeypatch, tmp_path):
    """Alice's account (erasable) and invoices (kept by law), in a map translated to Japanese."""
    monkeypatch.setenv("STORES_CONFIG", str(make_shop(tmp_path, TRANSLATED)))
    monkeypatch.setenv("ARCHIVE_ENCRYPTION", "none")  # the worker processes read it too
    monkeypatch.setenv("STEP_RETRY_INTERVALS", "1")
    return make_app()


def test_a_japanese_archive_gives_the_data_maps_japanese_texts(shop_app):
    archive = archive_of(shop_app, ask(shop_app, "ja", "access", region="japan"))

    index = archive.read("index.html").decode()
    for label, text in (("利用目的", "アカウントの提供と保護"),
                        ("データの種類", "アカウント情報, 連絡先"),
                        ("提供先", "クラウドインフラ事業者"),
                        ("保存期間", "アカウントの存続期間および削除後90日間")):
        assert f"<dt>{label}</dt><dd>{text}</dd>" in index
    assert "Provide and secure your account" not in index

    report = squeezed(archive.read("report.pdf"))
    for text in ("アカウントの提供と保護", "アカウント情報,連絡先", "クラウドインフラ事業者",
                 "アカウントの存続期間および削除後90日間",
                 "税法上の義務により7年間保存します"):
        assert text in report
    assert "Provideandsecureyouraccount" not in report and "Taxlaw:7years" not in report


def test_an_english_archive_keeps_the_texts_as_written(shop_app):
    archive = archive_of(shop_app, ask(shop_app, "en", "access"))
    index = archive.read("index.html").decode()
    assert "<dt>Purpose</dt><dd>Provide and secure your account</dd>" in index
    assert "アカウント" not in index
    report = squeezed(archive.read("report.pdf"))
    assert "Provideandsecureyouraccount" in report and "Taxlaw:7years" in report
    assert "アカウント" not in report and "税法" not in report


def test_a_japanese_certificate_gives_the_kept_tables_japanese_reason(shop_app):
    text = squeezed(certificate_of(shop_app, ask(shop_app, "ja", "deletion")))
    assert "accountsinvoices1税法上の義務により7年間保存します" in text
    assert "Taxlaw" not in text


def test_an_english_certificate_gives_the_reason_as_written(shop_app):
    text = squeezed(certificate_of(shop_app, ask(shop_app, "en", "deletion")))
    assert "accountsinvoices1Taxlaw:7years" in text and "税法" not in text


RETAINED = {"table": "invoices", "action": "retained", "count": 1, "reason": "Tax law: 7 years"}
MOMENT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def erased(reason=RETAINED["reason"], table="invoices", store="accounts"):
    return SimpleNamespace(store=store, result={"outcomes": [
        {"table": "users", "action": "deleted", "count": 1},
        {**RETAINED, "table": table, "reason": reason}], "verified_empty": True})


def person(locale):
    return SimpleNamespace(reference="R-1", locale=locale, timezone="UTC",
                           request_type="access", regime="appi")


def kept_reasons(app, locale, *steps):
    with app.app_context():
        facts = certificate_facts(person(locale), list(steps), MOMENT)
    return [o["reason"] for s in facts["stores"] for o in s["outcomes"]
            if o["action"] == "retained"]


@pytest.fixture
def app_on(make_app, monkeypatch, tmp_path):
    def on(datamap):
        monkeypatch.setenv("STORES_CONFIG", str(make_shop(tmp_path, datamap)))
        return make_app()
    return on


def test_a_reason_the_map_no_longer_writes_so_stays_as_recorded(app_on):
    """The translation is of the map's English text: a reason recorded before the company
    changed it, a table or store the map no longer names, stay as recorded."""
    app = app_on(TRANSLATED)
    assert kept_reasons(app, "ja", erased()) == ["税法上の義務により7年間保存します"]
    assert kept_reasons(app, "ja", erased(reason="Old reason")) == ["Old reason"]
    assert kept_reasons(app, "ja", erased(table="gone")) == ["Tax law: 7 years"]
    assert kept_reasons(app, "ja", erased(store="crm")) == ["Tax law: 7 years"]
    assert kept_reasons(app, "en", erased()) == ["Tax law: 7 years"]


def test_a_broken_map_at_certificate_time_keeps_the_recorded_reasons(app_on, tmp_path):
    app = app_on(TRANSLATED)
    (tmp_path / "stores.toml").write_text("[[stores]]\nname = 1\n")
    assert kept_reasons(app, "ja", erased()) == ["Tax law: 7 years"]


def test_english_documents_are_byte_identical_with_or_without_translations(app_on):
    documents = []
    for datamap in (PLAIN, TRANSLATED):
        app = app_on(datamap)
        with app.app_context():
            facts = {**statement(person("en")), "generated_at": "2026-01-01T00:00:00"}
            certificate = certificate_facts(person("en"), [erased()], MOMENT)
        report, proof = _pdf(art15_report, facts), _pdf(deletion_certificate, certificate)
        documents.append((facts, certificate, report, proof))
    assert documents[0] == documents[1]
    assert "Tax law: 7 years" in pdf_unicode_text(documents[1][3])


def _pdf(build, facts):
    out = io.BytesIO()
    build(out, facts)
    return out.getvalue()


TITLED = TRANSLATED.replace(
    'name = "accounts"\n',
    'name = "accounts"\ntitle = "Your shop account"\n'
    'translations.ja.title = "ショップのアカウント"\n',
).replace(
    '  table = "invoices"\n', '  table = "invoices"\n  title = "Invoices"\n'
    '  translations.ja.title = "請求書"\n')


def test_a_japanese_certificate_names_stores_and_tables_by_their_japanese_titles(app_on):
    from app.locales import in_locale
    app = app_on(TITLED)
    with app.app_context():
        facts = certificate_facts(person("ja"), [erased()], MOMENT)
        with in_locale("ja"):
            text = "".join(pdf_unicode_text(_pdf(deletion_certificate, facts)).split())
    assert "ショップのアカウント請求書1税法上の義務により7年間保存します" in text
    assert "accounts" not in text and "invoices" not in text
    with app.app_context():
        english = certificate_facts(person("en"), [erased()], MOMENT)
    assert english["stores"][0]["title"] == "Your shop account"
    assert english["stores"][0]["table_titles"] == {"users": "users", "invoices": "Invoices"}
