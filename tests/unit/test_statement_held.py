"""report.pdf and index.html tell the person where we hold data about them, where we searched
and found nothing, and what staff confirmed for the systems they handle by hand."""
import pytest
from pdf_support import pdf_unicode_text
from test_reports import STATEMENT, pdf_bytes, pdf_text

from app.factory import create_app
from app.locales import in_locale
from workflows.archive_index import render_index
from workflows.reports import art15_report

ACCOUNTS, BILLING = STATEMENT["stores"]
PROCESSOR = {"store": "payment_processor", "kind": "manual", "purpose": "Take your payments",
             "categories": ["card details"], "recipients": [], "retention": "7 years",
             "source": "You", "on_erase": {}, "records": 0, "files": 0, "manual": True,
             "note": "processor holds no extra data for this person", "searched": True}
# Carol: billing rows only; the account store found nothing.
CAROL = {**STATEMENT, "stores": [
    {**ACCOUNTS, "records": 0, "files": 0, "manual": False, "note": None, "searched": True},
    {**BILLING, "records": 3, "files": 0, "manual": False, "note": None, "searched": True},
    PROCESSOR]}


def section(text, start, end=None):
    return text[text.index(start):text.index(end) if end else None]


def test_a_store_with_nothing_of_the_persons_is_not_described_as_held():
    text = pdf_text(pdf_bytes(art15_report, CAROL))
    held = section(text, "What we hold, store by store", "Checked by our staff")
    assert "Bill your subscription" in held and "Tax law: 7 years" in held
    assert "accounts" not in held and "Account lifetime + 90 days" not in held
    empty = section(text, "Where we found nothing about you", "International transfers")
    assert "We searched these stores and found no data about you." in empty
    assert "accounts : Provide and secure your account" in empty  # bold name, then purpose
    assert "contact details" not in empty and "Cloud infrastructure provider" not in empty


def test_a_manual_store_says_what_staff_confirmed_and_that_no_export_is_included():
    text = pdf_text(pdf_bytes(art15_report, CAROL))
    by_hand = section(text, "Checked by our staff", "Where we found nothing about you")
    # The same Art. 15 facts as index.html gives it, not a one-line summary.
    assert "payment_processor Purpose: Take your payments Categories of data: card details" \
        in by_hand
    assert "What our staff confirmed: processor holds no extra data for this person" in by_hand
    assert "no export from it is included in this archive" in by_hand


def test_a_manual_store_whose_export_staff_uploaded_is_held_and_says_where_it_is():
    uploaded = {**CAROL, "stores": CAROL["stores"][:2] + [{**PROCESSOR, "files": 1}]}
    text = pdf_text(pdf_bytes(art15_report, uploaded))
    held = section(text, "What we hold, store by store", "Where we found nothing about you")
    assert "payment_processor" in held and "card details" in held
    assert "the export is in the files folder of this archive" in held
    assert "Checked by our staff" not in text


def test_a_person_with_nothing_anywhere_is_told_so():
    nobody = {**CAROL, "stores": [{**s, "records": 0, "files": 0} for s in CAROL["stores"][:2]]}
    text = pdf_text(pdf_bytes(art15_report, nobody))
    assert "We found no data about you in any store we searched." in text
    assert "Tax law: 7 years" not in text  # the retained-table detail belongs to held stores


def test_an_export_leaves_unsearched_stores_to_its_left_out_section():
    export = {**CAROL, "request_type": "export",
              "not_portable": [{"store": "accounts", "whole_store": True, "tables": []}],
              "stores": [{**CAROL["stores"][0], "searched": False}] + CAROL["stores"][1:]}
    text = pdf_text(pdf_bytes(art15_report, export))
    assert "Where we found nothing about you" not in text
    assert "accounts (the whole store)" in text


def test_a_statement_without_counts_describes_every_store_as_before():
    assert pdf_text(pdf_bytes(art15_report, STATEMENT)).count("Purpose:") == 2


def index_store(facts, files=(), tasks=()):
    return {"store": facts["store"], "anchor": "store-" + facts["store"], "facts": facts,
            "tables": [], "files": list(files), "tasks": list(tasks)}


def page(stores):
    return render_index(company="CraftOS", reference="R-7", generated_at="2026-03-01",
                        request_type="access", stores=stores)


def test_index_says_what_staff_confirmed_and_promises_nothing_separately():
    html = page([index_store(PROCESSOR)])
    assert "sent to you separately" not in html
    assert "What our staff confirmed: processor holds no extra data for this person" in html
    assert "no export from it is included in this archive" in html
    uploaded = page([index_store({**PROCESSOR, "files": 1},
                                 files=[("files/payment_processor/x.csv", "x.csv", 9)])])
    assert "the export is in the files folder of this archive" in uploaded
    assert "No data about you was found" not in uploaded


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    database = tmp_path_factory.mktemp("ja") / "unused.db"
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})


def test_statement_held_and_nothing_found_ja(app):
    with app.app_context(), in_locale("ja"):
        text = "".join(pdf_unicode_text(pdf_bytes(art15_report, CAROL)).split())
        html = page([index_store(PROCESSOR)])
    assert "Wherewefoundnothingaboutyou" not in text and "Checkedbyourstaff" not in text
    assert "Whatourstaffconfirmed" not in text
    assert "What our staff confirmed" not in html and "no export from it" not in html


def test_index_groups_a_manual_store_with_nothing_held_under_checked_by_our_staff():
    """report.pdf's rule: a staff-checked store with nothing of the person's is in its own
    group, after the stores that hold data, with the same Art. 15 facts."""
    billing = {**BILLING, "records": 3, "files": 0, "manual": False}
    held = index_store(billing)
    held["tables"] = [{"table": "invoices", "rows": 3, "columns": [], "json_href": "a.json",
                       "csv_href": "a.csv", "preview": []}]
    html = page([index_store(PROCESSOR), held])
    group = html[html.index('<h2 id="checked-by-staff">Checked by our staff</h2>'):]
    assert html.index('<h2 id="store-billing">') < html.index("Checked by our staff")
    assert '<h3 id="store-payment_processor">payment_processor</h3>' in group
    assert "<dt>Categories of data</dt><dd>card details</dd>" in group
    assert "What our staff confirmed: processor holds no extra data for this person" in group
    text = pdf_text(pdf_bytes(art15_report, CAROL))
    assert "Categories of data: card details" in section(text, "Checked by our staff",
                                                         "Where we found nothing about you")
