"""Where a person reads a store's or a table's name (index.html, report.pdf, the deletion
certificate, the erasure email) they read the data map's title, not the internal id; a map
without titles gives exactly the documents it gave before."""
from test_reports import CERTIFICATE, STATEMENT, pdf_bytes, pdf_text

from workflows.archive_index import render_index
from workflows.certificate import deletion_certificate, erasure_summary
from workflows.reports import art15_report

TITLES = {"accounts": ("Your account", {"users": "Account details"}),
          "billing": ("Billing", {"invoices": "Invoices kept for tax"})}


def titled_statement(titles=TITLES):
    return {**STATEMENT, "stores": [
        {**s, "title": titles[s["store"]][0], "table_titles": titles[s["store"]][1]}
        for s in STATEMENT["stores"]]}


def titled_certificate(titles=TITLES):
    return {**CERTIFICATE, "stores": [
        {**s, "title": titles[s["store"]][0], "table_titles": titles[s["store"]][1]}
        for s in CERTIFICATE["stores"]]}


def index(statement):
    stores = [{"store": s["store"], "anchor": "store-" + s["store"], "facts": s,
               "tables": [{"table": t, "rows": 1, "columns": [], "json_href": "a.json",
                           "csv_href": "a.csv", "preview": []} for t in s["on_erase"]],
               "files": [], "tasks": []} for s in statement["stores"]]
    return render_index(company="CraftOS", reference="R-7", generated_at="2026-03-01",
                        request_type="access", stores=stores)


def test_report_pdf_names_stores_and_kept_tables_by_their_titles():
    text = pdf_text(pdf_bytes(art15_report, titled_statement()))
    assert "Your account" in text and "Billing" in text
    assert "Kept after an erasure request (Invoices kept for tax):" in text
    assert "accounts" not in text and "(invoices)" not in text


def test_index_html_headings_and_contents_use_the_titles():
    html = index(titled_statement())
    assert '<h2 id="store-accounts">Your account</h2>' in html
    assert '<a href="#store-billing">Billing</a>' in html
    assert "<h3>Account details — 1 record</h3>" in html
    assert ">accounts<" not in html and "users —" not in html


def test_certificate_tables_name_stores_and_tables_by_their_titles():
    text = pdf_text(pdf_bytes(deletion_certificate, titled_certificate()))
    assert "Your account Account details deleted 1" in text
    assert "Billing Invoices kept for tax 12 Tax law" in text
    assert "accounts users" not in text


def test_erasure_email_summary_names_stores_and_tables_by_their_titles():
    facts = {**titled_certificate(), "stores": [
        {**s, "manual": False} for s in titled_certificate()["stores"]] + [
        {"store": "payment_processor", "title": "Payment processor", "manual": True,
         "outcomes": []}]}
    summary = erasure_summary({**facts, "verified_empty": ["accounts"]})
    assert summary["verified"] == ["Your account"]
    assert summary["manual"] == ["Payment processor"]
    assert [(s, o["table_title"]) for s, o in summary["kept"]] == [
        ("Billing", "Invoices kept for tax")]


def test_documents_of_a_map_without_titles_are_unchanged():
    """describe() gives the ids as titles when the map has none: the same bytes as a
    statement without any title key (what every document was built from before)."""
    same = {name: (name, {t: t for t in tables})
            for name, (_, tables) in TITLES.items()}
    assert pdf_bytes(art15_report, titled_statement(same)) == pdf_bytes(art15_report, STATEMENT)
    assert index(titled_statement(same)) == index(STATEMENT)
    assert (pdf_bytes(deletion_certificate, titled_certificate(same))
            == pdf_bytes(deletion_certificate, CERTIFICATE))
