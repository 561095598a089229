"""The person's documents in Japanese: report.pdf, the deletion certificate and index.html
speak the active language; data values are printed as the data map wrote them."""
import io

import pytest
from pdf_support import pdf_unicode_text
from test_reports import CERTIFICATE, STATEMENT

from app.factory import create_app
from app.locales import in_locale
from workflows.archive_index import render_index
from workflows.certificate import deletion_certificate
from workflows.reports import art15_report


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # No database or Redis is touched: the app only carries the catalogs.
    database = tmp_path_factory.mktemp("ja") / "unused.db"
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})


def rendered(app, locale, build, data):
    """The PDF's text with no whitespace: Japanese lines break anywhere, and each change of
    font (Japanese, Latin, bold) starts a new run."""
    out = io.BytesIO()
    with app.app_context(), in_locale(locale):
        build(out, data)
    return "".join(pdf_unicode_text(out.getvalue()).split())


def test_the_reader_recovers_english_too(app):
    text = rendered(app, "en", art15_report, STATEMENT)
    assert "Statementaboutyourpersonaldata" in text and "Yourrights" in text


def test_japanese_statement_has_japanese_headings_rights_and_authority(app):
    text = rendered(app, "ja", art15_report, STATEMENT)
    for heading in ("あなたの個人データに関する報告書", "保存先ごとの保有データ", "外国への移転",
                    "あなたの権利", "苦情の申立て先"):
        assert heading in text
    assert "個人情報保護委員会" in text and "https://www.ppc.go.jp/" in text
    assert "開示" in text and "訂正" in text and "消去" in text and "利用停止" in text
    assert "作成日時：2026年3月1日12:00UTC" in text  # the Japanese way of writing it
    # Data stays as the data map wrote it; no English fixed text is left.
    assert "Provideandsecureyouraccount" in text and "Taxlaw:7years" in text
    for english in ("Yourrights", "Howtocomplain", "Purpose", "PersonalInformation"):
        assert english not in text


def test_japanese_statement_names_the_authority_of_the_persons_regime(app):
    text = rendered(app, "ja", art15_report, {**STATEMENT, "regime": "gdpr"})
    primary = text[text.index("また、"):text.index("お住まいの地域によっては")]
    assert "データ保護監督機関" in primary and "個人情報保護委員会" not in primary
    assert "<b>開示</b>" not in text and "開示（GDPR第15条）" in text
    assert "同意の撤回（GDPR第7条第3項）" in text


def test_japanese_export_statement_says_what_it_leaves_out(app):
    left_out = [{"store": "risk", "whole_store": True, "tables": []}]
    text = rendered(app, "ja", art15_report,
                    {**STATEMENT, "request_type": "export", "not_portable": left_out})
    assert "このエクスポートに含まれないデータ" in text and "risk（保存先全体）" in text
    assert "R-7（データポータビリティ）" in text


def test_japanese_certificate_has_japanese_headings_and_dates(app):
    certificate = {**CERTIFICATE, "stores": CERTIFICATE["stores"] + [
        {"store": "crm", "outcomes": [{"table": "contacts", "action": "anonymized", "count": 3}]}]}
    text = rendered(app, "ja", deletion_certificate, certificate)
    for heading in ("削除証明書", "消去したデータ", "保存しているデータとその理由",
                    "消去後の確認", "バックアップ"):
        assert heading in text
    assert "accountsusers削除1" in text and "crmcontacts匿名化3" in text
    assert "billinginvoices12Taxlaw" in text
    assert "<b>2026年9月6日</b>" not in text and "2026年9月6日までに" in text
    assert "完了：2026年3月10日9:00UTC" in text
    assert "Whatweerased" not in text and "2026-09-06" not in text


def test_japanese_documents_show_times_in_the_persons_own_time_zone(app):
    """A person in Tokyo reads 21:00 日本時間, not 12:00 UTC; with no zone known, UTC as before."""
    text = rendered(app, "ja", art15_report, {**STATEMENT, "timezone": "Asia/Tokyo"})
    assert "作成日時：2026年3月1日21:00日本時間" in text
    certificate = rendered(app, "ja", deletion_certificate,
                           {**CERTIFICATE, "timezone": "Europe/Berlin"})
    assert "完了：2026年3月10日10:00中央ヨーロッパ時間" in certificate
    for unknown in ("UTC", "Not/AZone", None):
        text = rendered(app, "ja", art15_report, {**STATEMENT, "timezone": unknown})
        assert "作成日時：2026年3月1日12:00UTC" in text
    # English too: date, time and the zone's name, never the raw ISO moment.
    english = rendered(app, "en", art15_report, {**STATEMENT, "timezone": "Asia/Tokyo"})
    assert "Generated:2026-03-0121:00JapanTime" in english and "+00:00" not in english


def test_english_certificate_is_unchanged_inside_an_app(app):
    text = rendered(app, "en", deletion_certificate, CERTIFICATE)
    assert "Certificateofdeletion" in text and "2026-09-06" in text and "削除" not in text


def index(app, locale, request_type="access"):
    store = {"store": "accounts", "anchor": "store-accounts", "facts": STATEMENT["stores"][0],
             "tables": [{"table": "users", "rows": 1, "columns": ["email"],
                         "json_href": "data/accounts/users.json",
                         "csv_href": "data/accounts/users.csv",
                         "preview": [{"email": "alice@example.com"}]}],
             "files": [("files/accounts/a.txt", "a.txt", 5)], "tasks": []}
    with app.app_context(), in_locale(locale):
        return render_index(company="CraftOS", reference="R-7",
                            generated_at="2026-03-01T12:00:00+00:00",
                            request_type=request_type, stores=[store])


def test_japanese_index_names_the_moment_in_the_persons_time_zone(app):
    store = {"store": "accounts", "anchor": "store-accounts", "facts": {}, "tables": [],
             "files": [], "tasks": []}
    with app.app_context(), in_locale("ja"):
        page = render_index(company="CraftOS", reference="R-7",
                            generated_at="2026-03-01T12:00:00+00:00", request_type="access",
                            stores=[store], timezone="Asia/Tokyo")
    assert "受付番号 <strong>R-7</strong>（2026年3月1日 21:00 日本時間 作成）" in page


def test_japanese_index_is_japanese_and_keeps_the_data_as_written(app):
    page = index(app, "ja")
    assert '<html lang="ja">' in page
    assert "CraftOS が保有するあなたのデータの写し" in page
    assert "受付番号 <strong>R-7</strong>（2026年3月1日 12:00 UTC 作成）" in page
    assert "<dt>利用目的</dt><dd>Provide and secure your account</dd>" in page
    assert "ファイル — 1 個" in page
    assert "Your copy of your data" not in page and "Purpose" not in page


def test_english_index_is_english(app):
    page = index(app, "en", "export")
    assert '<html lang="en">' in page and "Your export of your data from CraftOS" in page
    assert "generated 2026-03-01 12:00 UTC." in page


def test_index_counts_records_in_words_that_agree_with_the_number(app):
    assert "users — 1 record</h3>" in index(app, "en")


def test_index_record_count_ja(app):
    assert "users — 1 件" in index(app, "ja")
