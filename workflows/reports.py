"""The PDFs a person receives: the Art. 15(1) statement and the deletion certificate.

Both are built with reportlab's platypus from plain dicts (see ``workflows.archive`` for the
statement's keys, ``deletion_certificate`` for the certificate's). Every value from the
company's config or a store goes through ``_text``, which escapes Paragraph markup, so a
purpose such as ``<b>`` or ``R&D`` prints as written and cannot inject markup.

Documents are built in reportlab's invariant mode (fixed creation date and document id): the
same input gives the same bytes, which tests and the archive's checksums rely on.

The standard PDF fonts cover Latin-1 only; text in other scripts (e.g. Japanese names) would
need an embedded Unicode font, which this module does not ship yet.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# Where to complain, by the regime that applies to the person. Addresses are the authorities'
# own complaint pages (checked 2026-03).
AUTHORITIES = {
    "appi": (
        "Personal Information Protection Commission (PPC), Japan",
        "https://www.ppc.go.jp/en/",
    ),
    "gdpr": (
        "the data protection supervisory authority of the EU/EEA country where you live, "
        "work or where you think the infringement happened",
        "https://edpb.europa.eu/about-edpb/about-edpb/members_en",
    ),
    "uk": (
        "Information Commissioner's Office (ICO), United Kingdom",
        "https://ico.org.uk/make-a-complaint/",
    ),
    "ccpa": ("California Privacy Protection Agency (CPPA)", "https://cppa.ca.gov/"),
    "us_state": ("the Attorney General of your state", ""),
}
# The complaint route named first for each regime; "company" (no statutory regime) falls back
# to Japan's, as the company is governed by Japanese law (policy section 10).
_PRIMARY = {"gdpr": "gdpr", "uk": "uk", "ccpa": "ccpa", "us_state": "us_state", "appi": "appi"}

RIGHTS = (
    ("Access", "a copy of your personal data and the facts in this statement", "15"),
    ("Rectification", "correction of inaccurate or incomplete data", "16"),
    ("Erasure", "deletion of your data, except what the law requires us to keep", "17"),
    ("Restriction", "that we only store your data while a dispute is resolved", "18"),
    (
        "Portability",
        "your data in a structured, machine-readable format (the JSON and CSV "
        "files in this archive)",
        "20",
    ),
    (
        "Objection",
        "to processing based on our legitimate interests, and to direct marketing at any time",
        "21",
    ),
    (
        "Withdraw consent",
        "at any time, for processing based on consent, without affecting what was done before",
        "7(3)",
    ),
)

_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=10, leading=13)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=9, leading=11)
_H1, _H2, _H3 = _STYLES["Title"], _STYLES["Heading2"], _STYLES["Heading3"]
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


# The standard PDF fonts stop at Latin-1. Japanese (and other CJK) runs are set in a CID font
# that reportlab knows without embedding a file; PDF viewers supply the glyphs.
CJK_FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
_NON_LATIN1 = re.compile(r"[^\x00-\xff]+")


def _text(value: object) -> str:
    """A value as Paragraph-safe text: markup escaped, lists joined, CJK runs in a CJK font."""
    if value is None or value == "" or value == []:
        return "Not stated"
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return _NON_LATIN1.sub(lambda m: f'<font name="{CJK_FONT}">{m.group(0)}</font>',
                           escape(str(value)))


def _p(markup: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(markup, style)


def _build(path_or_file, story: list, title: str) -> None:
    doc = SimpleDocTemplate(
        path_or_file,
        pagesize=A4,
        title=title,
        invariant=1,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build(story)


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    cells = [[_p(c, _CELL) for c in row] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(_GRID)
    return table


# --- Art. 15 statement -------------------------------------------------------------------


def _store_section(store: dict) -> list:
    facts = [
        ("Purpose", store.get("purpose")),
        ("Categories of data", store.get("categories")),
        ("Recipients", store.get("recipients")),
        ("Retention", store.get("retention")),
        ("Source", store.get("source") or "You, or your use of our services"),
    ]
    flow = [_p(_text(store.get("store")), _H3)]
    flow.extend(_p(f"<b>{label}:</b> {_text(value)}") for label, value in facts)
    kept = [
        (table, rule.get("reason"))
        for table, rule in (store.get("on_erase") or {}).items()
        if rule.get("rule") == "retain"
    ]
    for table, reason in kept:
        flow.append(_p(f"<b>Kept after an erasure request ({_text(table)}):</b> {_text(reason)}"))
    return flow


def _rights_section(regime: str) -> list:
    cite = regime in ("gdpr", "uk")
    flow = [_p("Your rights", _H2)]
    for name, what, article in RIGHTS:
        ref = f" (GDPR Art. {article})" if cite else ""
        flow.append(_p(f"<b>{name}</b>{ref}: {what}."))
    flow.append(
        _p(
            "To exercise any of them, reply to the contact below; we will verify your identity "
            "first and answer within the legal deadline."
        )
    )
    return flow


def _complaint_section(regime: str, contact: str) -> list:
    primary = _PRIMARY.get(regime, "appi")
    name, url = AUTHORITIES[primary]
    where = f" ({_text(url)})" if url else ""
    others = [AUTHORITIES[k][0] for k in ("appi", "gdpr", "uk", "ccpa") if k != primary]
    return [
        _p("How to complain", _H2),
        _p(
            f"You may first contact us at {_text(contact)}. You also have the right to lodge "
            f"a complaint with <b>{_text(name)}</b>{where}."
        ),
        _p(
            "Depending on where you live, you may instead complain to: "
            + "; ".join(_text(o) for o in others)
            + "; in other US states, the Attorney General of your state."
        ),
    ]


def _left_out_section(entries: list) -> list:
    """Export only: what the export leaves out because we made it, not the person (names)."""
    if not entries:
        return []
    lines = [
        _text(e["store"]) + (" (the whole store)" if e.get("whole_store")
                             else ": " + _text(", ".join(e.get("tables") or [])))
        for e in entries
    ]
    return [_p("Left out of this export", _H2),
            _p("Not data you provided, so not part of an Article 20 export: " + "; ".join(lines)
               + ".")]


def _transfer_section(statement: dict) -> list:
    transfers = statement.get("transfers") or []
    if not transfers:
        return []
    return [_p("International transfers", _H2)] + [_p(_text(t)) for t in transfers]


def art15_report(path_or_file, statement: dict) -> None:
    """Write the Art. 15(1) statement for ``statement`` (see ``workflows.archive``) as a PDF.

    ``statement`` may also hold ``"transfers": [str]``, one paragraph per international
    transfer (for the seed company: ``TRANSFER_TO_JAPAN``).
    """
    regime = str(statement.get("regime") or "company")
    kind = "export" if statement.get("request_type") == "export" else "access"
    story = [
        _p("Statement about your personal data", _H1),
        _p(f"<b>Company:</b> {_text(statement.get('company'))}"),
        _p(f"<b>Contact:</b> {_text(statement.get('contact'))}"),
        _p(f"<b>Request reference:</b> {_text(statement.get('reference'))} ({kind})"),
        _p(f"<b>Generated:</b> {_text(statement.get('generated_at'))}"),
        Spacer(1, 4 * mm),
        _p(
            "This statement answers Article 15(1) GDPR (and the equivalent rules of the APPI "
            "and US state laws): for each place where we hold data about you, why we hold it, "
            "what kinds of data, who receives it, how long we keep it and where it came from. "
            + ("The data you provided to us is in the data and files folders of this archive, "
               "in machine-readable form (Article 20 GDPR). Data we derived or created "
               "ourselves is not part of an export; it is listed below and in index.html, "
               "and an access request gives you a copy of it."
               if kind == "export" else
               "The data itself is in the data and files folders of this archive.")
        ),
        _p("What we hold, store by store", _H2),
    ]
    for store in statement.get("stores", []):
        story.extend(_store_section(store))
    if kind == "export":
        story.extend(_left_out_section(statement.get("not_portable") or []))
    story.extend(_transfer_section(statement))
    story.extend(_rights_section(regime))
    story.extend(_complaint_section(regime, str(statement.get("contact") or "")))
    _build(path_or_file, story, "Statement about your personal data")


TRANSFER_TO_JAPAN = (
    "Our servers and databases are in Japan, and our privacy policy is governed by Japanese "
    "law (policy section 10). If you live outside Japan, your data is transferred to and "
    "processed in Japan. The European Commission has found that Japan ensures an adequate "
    "level of protection (Decision (EU) 2019/419); in Japan your data is protected by the "
    "Act on the Protection of Personal Information (APPI)."
)


# --- deletion certificate ----------------------------------------------------------------


def deletion_certificate(path_or_file, certificate: dict) -> None:
    """Write the deletion certificate PDF.

    ``certificate``: ``{"company", "contact", "reference", "completed_at": ISO str,
    "stores": [{"store", "outcomes": [{"table", "action": "deleted" | "anonymized" |
    "retained", "count", "reason"}]}], "backups_roll_off": ISO date (completed + 180 days),
    "verified_empty": [store names re-scanned and found empty]}``.
    """
    stores = certificate.get("stores", [])
    story = [
        _p("Certificate of deletion", _H1),
        _p(f"<b>Company:</b> {_text(certificate.get('company'))}"),
        _p(f"<b>Request reference:</b> {_text(certificate.get('reference'))}"),
        _p(f"<b>Completed:</b> {_text(certificate.get('completed_at'))}"),
        Spacer(1, 4 * mm),
        _p("What we erased", _H2),
    ]
    erased = [["Store", "Table", "Action", "Records"]]
    kept = [["Store", "Table", "Records", "Why we keep it"]]
    for store in stores:
        for o in store.get("outcomes", []):
            row = [_text(store.get("store")), _text(o.get("table"))]
            if o.get("action") == "retained":
                kept.append(row + [_text(o.get("count", 0)), _text(o.get("reason"))])
            else:
                erased.append(row + [_text(o.get("action")), _text(o.get("count", 0))])
    if len(erased) > 1:
        story.append(_table(erased, [45, 55, 35, 25]))
    else:
        story.append(_p("We found nothing of yours that could be erased."))
    story.append(_p("What we kept, and why", _H2))
    if len(kept) > 1:
        story.append(_table(kept, [35, 40, 20, 79]))
        story.append(
            _p(
                "We keep these records only as long as the law requires, and delete "
                "them when that period ends."
            )
        )
    else:
        story.append(_p("Nothing: we kept no personal data about you."))
    verified = certificate.get("verified_empty") or []
    story.append(_p("Checked afterwards", _H2))
    story.append(
        _p(
            "After erasing, we searched these stores again and found no erasable data about you: "
            + _text(verified)
            + "."
            if verified
            else "No store was re-checked after erasure; contact us if you need this confirmed."
        )
    )
    story.extend(
        [
            _p("Backups", _H2),
            _p(
                "Our encrypted backups are kept for up to 180 days and then destroyed, so copies "
                "of the erased data in backups will be gone by <b>"
                f"{_text(certificate.get('backups_roll_off'))}</b>."
            ),
            _p("This request", _H2),
            _p(
                "We keep a minimised record of this request to show that we honoured it: the "
                "reference, dates and outcomes above. Your email address in it has been replaced "
                "by a keyed hash."
            ),
            _p(f"Questions: {_text(certificate.get('contact'))}."),
        ]
    )
    _build(path_or_file, story, "Certificate of deletion")
