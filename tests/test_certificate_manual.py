"""The deletion certificate names the stores staff erased by hand, says what they confirmed,
and that no scan re-checked them; a certificate without such stores reads as it always did."""
import io

import pytest
from helpers import csrf_token, links_in
from pdf_support import pdf_unicode_text
from test_workflows import erase
from unit.test_reports import CERTIFICATE, pdf_bytes, pdf_text

from app.factory import create_app
from app.locales import in_locale
from workflows.certificate import deletion_certificate

NOT_RECHECKED = "These stores were not re-checked automatically afterwards."
PROCESSOR = {"store": "payment_processor", "outcomes": [], "manual": True,
             "note": "Processor erased customer cus_123, confirmation ER-77"}
WITH_MANUAL = {**CERTIFICATE, "stores": CERTIFICATE["stores"] + [
    PROCESSOR, {"store": "crm_export", "outcomes": [], "manual": True, "note": None}]}
# The English text of CERTIFICATE as the certificate read before manual stores were listed.
UNCHANGED = (
    "Certificate of deletion Company: CraftOS Request reference: R-9 Completed: "
    "2026-03-10 09:00 UTC What we erased Store Table Action Records accounts users deleted "
    "1 What we kept, and why Store Table Records Why we keep it billing invoices 12 Tax law We "
    "keep these records only as long as the law requires, and delete them when that period "
    "ends. Checked afterwards After erasing, we searched these stores again and found no "
    "erasable data about you: accounts, conversations. Backups Our encrypted backups are kept "
    "for up to 180 days and then destroyed, so copies of the erased data in backups will be "
    "gone by 2026-09-06 . This request We keep a minimised record of this request to show "
    "that we honoured it: the reference, dates and outcomes above. Your email address in it "
    "has been replaced by a keyed hash. Questions: info@craftos.net."
)


def manual_section(text):
    return text[text.index("Handled by our staff"):text.index("Checked afterwards")]


def test_manual_stores_are_listed_with_what_staff_confirmed_and_not_rechecked():
    section = manual_section(pdf_text(pdf_bytes(deletion_certificate, WITH_MANUAL)))
    assert "payment_processor Processor erased customer cus_123, confirmation ER-77" in section
    assert "crm_export The erasure was carried out." in section
    assert NOT_RECHECKED in section
    assert "accounts" not in section and "billing" not in section  # checked or kept: not here


def test_certificate_without_manual_stores_is_unchanged():
    plain = pdf_bytes(deletion_certificate, CERTIFICATE)
    assert pdf_text(plain) == UNCHANGED
    # certificate_facts marks every store; "manual": False changes nothing, byte for byte.
    marked = {**CERTIFICATE, "stores": [{**s, "manual": False, "note": None}
                                        for s in CERTIFICATE["stores"]]}
    assert pdf_bytes(deletion_certificate, marked) == plain


@pytest.fixture
def ja_app(tmp_path):
    # No database or Redis is touched: the app only carries the catalogs.
    return create_app({"TESTING": True,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}"})


def test_japanese_certificate_lists_manual_stores_in_japanese(ja_app):
    out = io.BytesIO()
    with ja_app.app_context(), in_locale("ja"):
        deletion_certificate(out, WITH_MANUAL)
    text = "".join(pdf_unicode_text(out.getvalue()).split())
    assert "当社の担当者による対応" in text and "自動での再確認を行っていません" in text
    assert "payment_processorProcessorerasedcustomercus_123,confirmationER-77" in text
    assert "crm_export消去を実施しました。" in text
    assert "Handledbyourstaff" not in text and "re-checked" not in text


def test_deletion_certificate_carries_the_note_staff_wrote_for_the_manual_store(
        demo_app, smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    assert erase(demo_app, client, "kenji@example.com").state == "completed"

    erased = next(m for m in sink.messages if "erased" in m["Subject"])
    path = next(link for link in links_in(erased) if "/download/" in link).removeprefix(
        "http://portal.test")
    pdf = client.post(path, data={"csrf_token": csrf_token(client, path)})
    section = manual_section(pdf_text(pdf.data))
    # The store as the data map titles it, not its id.
    assert "Payment processor (card payments) processor holds no extra data for this person" \
        in section
    assert NOT_RECHECKED in section
