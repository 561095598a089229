"""The PDFs read back as text (content streams inflated with zlib: no PDF library needed)."""

import base64
import io
import re
import zlib

import pytest

from workflows.certificate import deletion_certificate
from workflows.legal_texts import TRANSFER_TO_JAPAN
from workflows.reports import art15_report

STATEMENT = {
    "company": "CraftOS",
    "contact": "info@craftos.net",
    "reference": "R-7",
    "request_type": "access",
    "regime": "appi",
    "generated_at": "2026-03-01T12:00:00+00:00",
    "transfers": [TRANSFER_TO_JAPAN],
    "stores": [
        {
            "store": "accounts",
            "kind": "sql",
            "purpose": "Provide and secure your account",
            "categories": ["account", "contact details"],
            "recipients": ["Cloud infrastructure provider"],
            "retention": "Account lifetime + 90 days",
            "source": "You",
            "on_erase": {"users": {"rule": "delete", "reason": None}},
        },
        {
            "store": "billing",
            "kind": "sql",
            "purpose": "Bill your subscription",
            "categories": ["billing"],
            "recipients": ["Payment processor"],
            "retention": "7 years",
            "source": "You",
            "on_erase": {"invoices": {"rule": "retain", "reason": "Tax law: 7 years"}},
        },
    ],
}
CERTIFICATE = {
    "company": "CraftOS",
    "contact": "info@craftos.net",
    "reference": "R-9",
    "completed_at": "2026-03-10T09:00:00+00:00",
    "stores": [
        {"store": "accounts", "outcomes": [{"table": "users", "action": "deleted", "count": 1}]},
        {
            "store": "billing",
            "outcomes": [
                {"table": "invoices", "action": "retained", "count": 12, "reason": "Tax law"}
            ],
        },
    ],
    "backups_roll_off": "2026-09-06", "backup_rolloff_days": 180,
    "verified_empty": ["accounts", "conversations"],
}


def pdf_bytes(build, data) -> bytes:
    out = io.BytesIO()
    build(out, data)
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages, runs joined by spaces, whitespace collapsed."""
    runs = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        if stream.rstrip().endswith(b"~>"):  # reportlab's ASCII85 wrapping
            stream = base64.a85decode(stream.rstrip()[:-2])
        try:
            stream = zlib.decompress(stream)
        except zlib.error:
            pass  # an uncompressed stream
        for run in re.findall(rb"\(((?:[^\\)]|\\.)*)\)\s*Tj", stream):
            runs.append(re.sub(rb"\\(.)", rb"\1", run).decode("latin-1"))
    return re.sub(r"\s+", " ", " ".join(runs))


def test_statement_lists_each_store_purpose_categories_recipients_retention_source():
    text = pdf_text(pdf_bytes(art15_report, STATEMENT))
    for expected in (
        "Provide and secure your account",
        "account, contact details",
        "Cloud infrastructure provider",
        "Account lifetime + 90 days",
        "Bill your subscription",
        "7 years",
        "Tax law: 7 years",
        "R-7",
    ):
        assert expected in text


def test_an_export_statement_names_what_it_leaves_out_and_access_does_not():
    left_out = [{"store": "analytics", "whole_store": False, "tables": ["usage_analytics"]},
                {"store": "risk", "whole_store": True, "tables": []}]
    export = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "request_type": "export",
                                               "not_portable": left_out}))
    assert "Left out of this export" in export and "Article 20" in export
    assert "analytics: usage_analytics" in export and "risk (the whole store)" in export
    access = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "not_portable": left_out}))
    assert "Left out of this export" not in access and "usage_analytics" not in access


def test_statement_lists_the_rights_of_the_persons_own_law_with_their_provisions():
    gdpr = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "regime": "gdpr"}))
    for right in ("Access (GDPR Art. 15)", "Rectification (GDPR Art. 16)",
                  "Erasure (GDPR Art. 17)", "Restriction (GDPR Art. 18)",
                  "Portability (GDPR Art. 20)", "Objection (GDPR Art. 21)",
                  "Withdraw consent (GDPR Art. 7(3))"):
        assert right in gdpr
    appi = pdf_text(pdf_bytes(art15_report, STATEMENT))  # regime appi
    for right in ("Disclosure (APPI Art. 33)", "Correction, addition or deletion (APPI Art. 34)",
                  "Cessation of use or erasure (APPI Art. 35(1), (5))",
                  "Cessation of provision to third parties (APPI Art. 35(3))",
                  "Notice of the purpose of use (APPI Art. 32(2))", "portable format"):
        assert right in appi
    assert "GDPR Art." not in appi
    ccpa = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "regime": "ccpa"}))
    for right in ("Right to know", "Right to delete (Cal. Civ. Code 1798.105)",
                  "Right to correct (Cal. Civ. Code 1798.106)",
                  "Right to opt out of sale or sharing", "Non-discrimination"):
        assert right in ccpa
    # Elsewhere (no statutory regime): the company's promises, without citations.
    company = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "regime": "company"}))
    assert "Rectification" in company and "Withdraw consent" in company
    assert "GDPR Art." not in company and "APPI Art." not in company


@pytest.mark.parametrize(
    "regime, authority",
    [
        ("appi", "Personal Information Protection Commission (PPC), Japan"),
        ("gdpr", "supervisory authority of the EU/EEA country"),
        ("uk", "Information Commissioner's Office (ICO)"),
        ("ccpa", "California Privacy Protection Agency (CPPA)"),
    ],
)
def test_complaint_authority_named_first_follows_the_regime(regime, authority):
    text = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "regime": regime}))
    primary = text[text.index("complaint with") : text.index("Depending on where you live")]
    assert authority in primary


def test_transfer_to_japan_is_explained():
    text = pdf_text(pdf_bytes(art15_report, STATEMENT))
    assert "transferred to and processed in Japan" in text
    assert "policy section 10" in text


def test_markup_in_store_values_is_printed_not_interpreted():
    hostile = {**STATEMENT["stores"][0], "purpose": "R&D <b>bold</b> <font size=90>x"}
    text = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "stores": [hostile]}))
    # reportlab draws the text around each escaped character as its own run: compare
    # without the spaces pdf_text puts between runs.
    assert "R&D<b>bold</b><fontsize=90>x" in text.replace(" ", "")


def test_same_statement_gives_the_same_pdf_bytes():
    assert pdf_bytes(art15_report, STATEMENT) == pdf_bytes(art15_report, STATEMENT)


def test_certificate_lists_erased_counts_retained_billing_and_backup_roll_off():
    text = pdf_text(pdf_bytes(deletion_certificate, CERTIFICATE))
    erased = text[text.index("What we erased") : text.index("What we kept")]
    kept = text[text.index("What we kept") : text.index("Checked afterwards")]
    assert "accounts users deleted 1" in erased
    assert "billing invoices 12 Tax law" in kept
    assert "2026-09-06" in text and "180 days" in text
    assert "accounts, conversations" in text
    assert "keyed hash" in text


def test_certificate_states_the_configured_backup_period_in_words_that_agree_with_it():
    for days, words in ((90, "kept for up to 90 days"), (1, "kept for up to 1 day and")):
        text = pdf_text(pdf_bytes(deletion_certificate,
                                  {**CERTIFICATE, "backup_rolloff_days": days}))
        assert words in text.replace("\n", " ") and "180" not in text


def test_certificate_with_nothing_kept_says_so():
    certificate = {**CERTIFICATE, "stores": CERTIFICATE["stores"][:1], "verified_empty": []}
    text = pdf_text(pdf_bytes(deletion_certificate, certificate))
    assert "Nothing: we kept no personal data about you." in text


def test_japanese_text_is_set_in_a_cjk_font_not_dropped():
    statement = {**STATEMENT, "stores": [{**STATEMENT["stores"][0], "purpose": "アカウントの提供"}]}
    buffer = io.BytesIO()
    art15_report(buffer, statement)
    data = buffer.getvalue()
    assert b"HeiseiKakuGo-W5" in data  # the CID font is referenced by the page
    assert "Provide and secure your account" not in pdf_text(data)


def test_english_moments_are_a_date_a_time_and_a_zone_without_microseconds():
    moment = "2026-11-28T00:06:05.782616+00:00"
    text = pdf_text(pdf_bytes(art15_report, {**STATEMENT, "generated_at": moment}))
    assert "Generated: 2026-11-28 00:06 UTC" in text and "782616" not in text
    certificate = pdf_text(pdf_bytes(deletion_certificate, {
        **CERTIFICATE, "completed_at": "2026-11-28T20:00:00+00:00", "timezone": "Asia/Tokyo"}))
    assert "Completed: 2026-11-29 05:00 Japan Time" in certificate


def test_certificate_lists_no_table_where_nothing_of_the_persons_was_found():
    """Kenji never paid: no "billing invoices 0 ... kept 7 years", as his email says."""
    certificate = {**CERTIFICATE, "stores": [
        {"store": "accounts", "outcomes": [{"table": "users", "action": "deleted", "count": 1},
                                           {"table": "sessions", "action": "deleted",
                                            "count": 0}]},
        {"store": "billing", "outcomes": [{"table": "invoices", "action": "retained",
                                           "count": 0, "reason": "Tax law"}]}]}
    text = pdf_text(pdf_bytes(deletion_certificate, certificate))
    assert "sessions" not in text and "invoices" not in text
    assert "accounts users deleted 1" in text
    assert "Nothing: we kept no personal data about you." in text
    nothing = {**certificate, "stores": [{"store": "billing", "outcomes": [
        {"table": "invoices", "action": "retained", "count": 0, "reason": "Tax law"}]}]}
    assert "We found nothing of yours that could be erased." in pdf_text(
        pdf_bytes(deletion_certificate, nothing))
