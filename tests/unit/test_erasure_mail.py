"""The erasure email says what the certificate says: deleted and de-identified records apart,
the re-check only for the stores re-checked, staff's stores named, the backup date in the
person's own calendar and language."""
import datetime as dt
from types import SimpleNamespace

import pytest

from app.factory import create_app
from app.mail import render_bodies
from workflows.certificate import certificate_facts, erasure_mail, erasure_summary

# + 180 days: 27 May 2027, 20:00 UTC, which is 28 May, 05:00 in Tokyo.
COMPLETED = dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.UTC)
FACTS = {
    "verified_empty": ["accounts", "analytics"],
    "stores": [
        {"store": "accounts", "manual": False, "note": None, "outcomes": [
            {"table": "users", "action": "deleted", "count": 1},
            {"table": "sessions", "action": "deleted", "count": 0}]},
        {"store": "analytics", "manual": False, "note": None, "outcomes": [
            {"table": "usage", "action": "anonymized", "count": 6}]},
        {"store": "billing", "manual": False, "note": None, "outcomes": [
            {"table": "invoices", "action": "retained", "count": 3, "reason": "Tax law"},
            {"table": "customers", "action": "retained", "count": 0, "reason": "Tax law"}]},
        {"store": "payment_processor", "manual": True, "note": "done", "outcomes": []},
    ],
}
NOTHING = {"verified_empty": ["accounts"], "stores": [
    {"store": "accounts", "manual": False, "note": None,
     "outcomes": [{"table": "users", "action": "deleted", "count": 0}]}]}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    database = tmp_path_factory.mktemp("mail") / "unused.db"
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})


def email(app, facts, locale="en", timezone="Asia/Tokyo"):
    """The email for ``facts``' outcomes, with the backup date the certificate would state."""
    person = SimpleNamespace(name="Carol", reference="R-9", locale=locale, timezone=timezone,
                             request_type="deletion")
    with app.app_context():
        dated = {**certificate_facts(person, [], COMPLETED), **facts}
        return render_bodies(person, "erasure_done",
                             {"download_url": "http://portal.test/d",
                              **erasure_mail(dated, locale)})


def test_summary_filters_empty_tables_and_counts_deleted_and_deidentified_apart():
    summary = erasure_summary(FACTS)
    assert (summary["deleted"], summary["anonymized"]) == (1, 6)
    assert [(s, o["table"]) for s, o in summary["kept"]] == [("billing", "invoices")]
    assert summary["manual"] == ["payment_processor"]


def test_erasure_email_tells_deleted_from_deidentified_and_names_what_was_rechecked(app):
    text, html = email(app, FACTS)
    assert "We deleted 1 record." in text
    assert "We de-identified 6 records: they stay in our systems" in text
    assert "We erased" not in text
    assert "searched these systems again and found nothing of yours left to erase: " \
           "accounts, analytics." in text
    assert "by hand" in text and "not searched again automatically: payment_processor." in text
    assert "billing / invoices: 3 records. Why: Tax law" in text and "customers" not in text
    assert "We deleted 1 record." in html and "payment_processor" in html


def test_erasure_email_with_nothing_found_says_so_not_erased_zero(app):
    text, _ = email(app, NOTHING)
    assert "found no data about you that could be erased" in text
    assert "0 records" not in text and "We deleted" not in text and "by hand" not in text


def test_erasure_email_gives_the_backup_date_in_the_persons_zone_and_words(app):
    tokyo, _ = email(app, FACTS)
    assert "leaves them by May 28, 2027 (180 days)" in tokyo
    utc, _ = email(app, FACTS, timezone="UTC")
    assert "leaves them by May 27, 2027 (180 days)" in utc


def test_erasure_email_states_the_configured_backup_period(app, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_ROLLOFF_DAYS", 1)
    text, html = email(app, FACTS, timezone="UTC")
    assert "leaves them by November 29, 2026 (1 day)." in text
    assert "(1 day)." in html and "180" not in text


def test_erasure_email_backup_date_is_written_the_japanese_way(app):
    text, _ = email(app, FACTS, locale="ja")
    assert "2027年5月28日" in text and "2027-05-2" not in text


def test_erasure_email_new_sentences_ja(app):
    text, _ = email(app, FACTS, locale="ja")
    for english in ("We deleted", "We de-identified", "searched these systems again",
                    "by hand", "records. Why"):
        assert english not in text
    nothing, _ = email(app, NOTHING, locale="ja")
    assert "found no data about you" not in nothing



def test_backup_roll_off_is_the_persons_local_day_180_days_after_completion(app):
    """Completed 28 Nov 20:00 UTC is 29 Nov 05:00 in Tokyo: backups go by 28 May 05:00
    there, so the certificate says 28 May, not the UTC date a day earlier."""
    completed = dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.UTC)
    for zone, day in (("Asia/Tokyo", "2027-05-28"), ("UTC", "2027-05-27"),
                      ("America/Los_Angeles", "2027-05-27")):
        person = SimpleNamespace(reference="R-9", timezone=zone)
        with app.app_context():
            facts = certificate_facts(person, [], completed)
        assert facts["backups_roll_off"] == day, zone
        assert facts["backup_rolloff_days"] == 180


def correction_email(app, locale="en"):
    person = SimpleNamespace(name="Carol", reference="R-9", locale=locale, timezone="UTC",
                             request_type="correction")
    with app.app_context():
        return render_bodies(person, "correction_done", {
            "corrected": [{"field": "Full legal name", "value": "Carol Q. Chen",
                           "stores": ["Your account", "Billing"]}],
            "by_staff": ["Payment processor"], "not_found": ["shoe size"],
            "status_url": "http://portal.test/s"})


def test_correction_email_says_in_the_persons_words_what_each_field_now_holds_and_where(app):
    text, html = correction_email(app)
    assert ('- Full legal name: "Carol Q. Chen" (changed in: Your account, Billing)\n'
            in text)
    assert "Our staff made your correction by hand in: Payment processor." in text
    assert "no information of yours called shoe size" in text
    assert '<li>Full legal name: "Carol Q. Chen" (changed in: Your account, Billing)</li>' in html
    assert "accounts" not in text + html and "record" not in text + html


def test_correction_email_new_sentences_ja(app):
    text, html = correction_email(app, "ja")
    for english in ("Your information now reads", "changed in", "by hand in"):
        assert english not in text + html
    assert "Full legal name" in text and "Carol Q. Chen" in text  # the person's own words
    assert "。 " not in text  # no ASCII space glued between Japanese sentences


def test_erasure_email_sentences_join_without_ascii_spaces_ja(app):
    text, html = email(app, FACTS, locale="ja")
    assert "。 " not in text and "。 " not in html
    assert ", " not in text.split("\n\n")[2]  # the stores are listed with the Japanese comma
