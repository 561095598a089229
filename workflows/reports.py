"""The PDFs a person receives: the Art. 15(1) statement here, and the layout both it and the
deletion certificate (``workflows.certificate``) are built with.

Both are built with reportlab's platypus from plain dicts (see ``workflows.archive`` for the
statement's keys, ``workflows.certificate.deletion_certificate`` for the certificate's). The
underscored layout helpers (``_p``, ``_field``, ``_table``, ``_build``, the styles) are shared
by those two modules only. Every value from the
company's config or a store goes through ``_text``, which escapes Paragraph markup, so a
purpose such as ``<b>`` or ``R&D`` prints as written and cannot inject markup, and replaces
lone surrogates (which no PDF font encoding can carry) with U+FFFD.

Documents are built in reportlab's invariant mode (fixed creation date and document id): the
same input gives the same bytes, which tests and the archive's checksums rely on.

The fixed text is translated (flask_babel gettext: the active language, see
``workflows.document_language``); values from the config, the data map or a store are printed
as written. Runs outside Latin-1 (Japanese text, fixed or from a store) are set in a CJK font.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from workflows.archive_values import utf8_text
from workflows.document_language import written_date
from workflows.legal_texts import AUTHORITIES, PRIMARY_AUTHORITY, RIGHTS, RIGHTS_BY_LAW
from workflows.store_groups import group_stores, store_title, table_title

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
    """A value as Paragraph-safe text: markup escaped, lists joined, surrogates replaced."""
    if value is None or value == "" or value == []:
        return _("Not stated")
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return escape(utf8_text(str(value)))


def _p(markup: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """A paragraph whose CJK runs, fixed text or values alike, are set in the CJK font (tags
    and attributes are ASCII, so wrapping never splits one)."""
    return Paragraph(
        _NON_LATIN1.sub(lambda m: f'<font name="{CJK_FONT}">{m.group(0)}</font>', markup),
        style,
    )


def _field(label: str, value: str) -> Paragraph:
    """``<b>Label:</b> value`` (the colon is the language's own)."""
    return _p(_("<b>%(label)s:</b> %(value)s", label=label, value=value))


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
    # splitInRow: a row taller than a page (a long retain reason from a store) continues on
    # the next page; without it the build fails after the erasure has already happened.
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1, splitInRow=1)
    table.setStyle(_GRID)
    return table


# --- Art. 15 statement -------------------------------------------------------------------


def _facts(store: dict) -> list[tuple[str, object]]:
    """The Art. 15(1) facts of one store, labelled in the reader's language."""
    return [
        (_("Purpose"), store.get("purpose")),
        (_("Categories of data"), store.get("categories")),
        (_("Recipients"), store.get("recipients")),
        (_("Retention"), store.get("retention")),
        (_("Source"), store.get("source") or _("You, or your use of our services")),
    ]


def _store_section(store: dict) -> list:
    flow = [_p(_text(store_title(store)), _H3)]
    flow.extend(_field(label, _text(value)) for label, value in _facts(store))
    kept = [
        (table, rule.get("reason"))
        for table, rule in (store.get("on_erase") or {}).items()
        if rule.get("rule") == "retain"
    ]
    for table, reason in kept:
        flow.append(_p(_("<b>Kept after an erasure request (%(table)s):</b> %(reason)s",
                         table=_text(table_title(store, table)), reason=_text(reason))))
    return flow


def _holds_data(store: dict) -> bool:
    """Whether the request found data of the person's here. A store described without what
    its step found (a statement built from the data map alone) is described in full."""
    return "records" not in store or bool(store.get("records") or store.get("files"))


def _staff_lines(store: dict) -> list:
    """A manual store: what staff confirmed, and whether their export is in the archive."""
    flow = []
    if store.get("note"):
        flow.append(_field(_("What our staff confirmed"), _text(store.get("note"))))
    if store.get("files"):
        flow.append(_p(_("Our staff exported your data from this system, which we cannot "
                         "search ourselves; the export is in the files folder of this "
                         "archive.")))
    else:
        flow.append(_p(_("Our staff checked this system by hand, as we cannot search it "
                         "ourselves; no export from it is included in this archive.")))
    return flow


def _brief(store: dict) -> Paragraph:
    """One line for a store with nothing of the person's: its name and what it is for."""
    return _p(_("<b>%(store)s</b>: %(purpose)s", store=_text(store_title(store)),
                purpose=_text(store.get("purpose"))))


def _stores_sections(stores: list) -> list:
    """Where we hold data about the person (in full), the stores staff checked by hand (in
    full, as index.html gives them), and those searched where we found nothing (briefly: the
    processing, not a claim to hold)."""
    searched = [s for s in stores if s.get("searched", True)]
    held, by_hand, empty = group_stores(searched, _holds_data, lambda s: s.get("manual"))
    flow = [_p(_("What we hold, store by store"), _H2)]
    for store in held:
        flow.extend(_store_section(store))
        if store.get("manual"):
            flow.extend(_staff_lines(store))
    if not held:
        flow.append(_p(_("We found no data about you in any store we searched.")))
    if by_hand:
        flow.append(_p(_("Checked by our staff"), _H2))
        for store in by_hand:
            flow.extend(_store_section(store))
            flow.extend(_staff_lines(store))
    if empty:
        flow.append(_p(_("Where we found nothing about you"), _H2))
        flow.append(_p(_("We searched these stores and found no data about you. What we use "
                         "each of them for:")))
        flow.extend(_brief(store) for store in empty)
    return flow


def _right(name, what, article: str, paragraph: str, cite: bool) -> Paragraph:
    if not cite:
        return _p(_("<b>%(name)s</b>: %(what)s.", name=name, what=what))
    ref = (_("GDPR Art. %(article)s(%(paragraph)s)", article=article, paragraph=paragraph)
           if paragraph else _("GDPR Art. %(article)s", article=article))
    return _p(_("<b>%(name)s</b> (%(ref)s): %(what)s.", name=name, ref=ref, what=what))


def _cited_right(name, what, ref) -> Paragraph:
    return _p(_("<b>%(name)s</b> (%(ref)s): %(what)s.", name=name, ref=ref, what=what))


def _rights_section(regime: str) -> list:
    flow = [_p(_("Your rights"), _H2)]
    if regime in RIGHTS_BY_LAW:
        # The person's own law, cited; the company's further promises after it.
        flow.extend(_cited_right(*right) for right in RIGHTS_BY_LAW[regime])
        flow.append(_p(_("In addition, our privacy policy promises everyone a copy of their data "
                         "in a portable format (the JSON and CSV files of an export) and the "
                         "right to withdraw consent at any time.")))
    else:
        cite = regime in ("gdpr", "uk")
        flow.extend(_right(*right, cite=cite) for right in RIGHTS)
    flow.append(
        _p(
            _("To exercise any of them, reply to the contact below; we will verify your "
              "identity first and answer within the legal deadline.")
        )
    )
    return flow


def _complaint_section(regime: str, contact: str) -> list:
    primary = PRIMARY_AUTHORITY.get(regime, "appi")
    name, url = AUTHORITIES[primary]
    others = [AUTHORITIES[k][0] for k in ("appi", "gdpr", "uk", "ccpa") if k != primary]
    if url:
        lodge = _("You may first contact us at %(contact)s. You also have the right to lodge a "
                  "complaint with <b>%(authority)s</b> (%(url)s).",
                  contact=_text(contact), authority=_text(name), url=_text(url))
    else:
        lodge = _("You may first contact us at %(contact)s. You also have the right to lodge a "
                  "complaint with <b>%(authority)s</b>.",
                  contact=_text(contact), authority=_text(name))
    return [
        _p(_("How to complain"), _H2),
        _p(lodge),
        _p(
            _("Depending on where you live, you may instead complain to: %(others)s; in other "
              "US states, the Attorney General of your state.",
              others=_("; ").join(_text(o) for o in others))
        ),
    ]


def _left_out_section(entries: list, stores: list) -> list:
    """Export only: what the export leaves out because we made it, not the person (names, as
    the described ``stores`` title them)."""
    if not entries:
        return []
    described = {s.get("store"): s for s in stores}
    lines = []
    for e in entries:
        store = described.get(e["store"], {"store": e["store"]})
        lines.append(
            _("%(store)s (the whole store)", store=_text(store_title(store)))
            if e.get("whole_store")
            else _("%(store)s: %(tables)s", store=_text(store_title(store)),
                   tables=_text(", ".join(table_title(store, t) for t in e.get("tables") or [])))
        )
    return [_p(_("Left out of this export"), _H2),
            _p(_("Not data you provided, so not part of an Article 20 export: %(entries)s.",
                 entries=_("; ").join(lines)))]


def _transfer_section(statement: dict) -> list:
    transfers = statement.get("transfers") or []
    if not transfers:
        return []
    return [_p(_("International transfers"), _H2)] + [_p(_text(t)) for t in transfers]


def _about_statement(kind: str) -> str:
    if kind == "export":
        return _(
            "This statement answers Article 15(1) GDPR (and the equivalent rules of the APPI "
            "and US state laws): for each place where we hold data about you, why we hold it, "
            "what kinds of data, who receives it, how long we keep it and where it came from. "
            "The data you provided to us is in the data and files folders of this archive, "
            "in machine-readable form (Article 20 GDPR). Data we derived or created "
            "ourselves is not part of an export; it is listed below and in index.html, "
            "and an access request gives you a copy of it."
        )
    return _(
        "This statement answers Article 15(1) GDPR (and the equivalent rules of the APPI "
        "and US state laws): for each place where we hold data about you, why we hold it, "
        "what kinds of data, who receives it, how long we keep it and where it came from. "
        "The data itself is in the data and files folders of this archive."
    )


def art15_report(path_or_file, statement: dict) -> None:
    """Write the Art. 15(1) statement for ``statement`` (see ``workflows.archive``) as a PDF,
    in the active language.

    ``statement`` may also hold ``"transfers": [str]``, one paragraph per international
    transfer (for the seed company: ``TRANSFER_TO_JAPAN``).
    """
    regime = str(statement.get("regime") or "company")
    kind = "export" if statement.get("request_type") == "export" else "access"
    title = _("Statement about your personal data")
    story = [
        _p(title, _H1),
        _field(_("Company"), _text(statement.get("company"))),
        _field(_("Contact"), _text(statement.get("contact"))),
        _field(_("Request reference"),
               _("%(reference)s (%(kind)s)", reference=_text(statement.get("reference")),
                 kind=_("export") if kind == "export" else _("access"))),
        _field(_("Generated"), _text(written_date(statement.get("generated_at"),
                                                  statement.get("timezone")))),
        Spacer(1, 4 * mm),
        _p(_about_statement(kind)),
    ]
    story.extend(_stores_sections(statement.get("stores", [])))
    if kind == "export":
        story.extend(_left_out_section(statement.get("not_portable") or [],
                                       statement.get("stores", [])))
    story.extend(_transfer_section(statement))
    story.extend(_rights_section(regime))
    story.extend(_complaint_section(regime, str(statement.get("contact") or "")))
    _build(path_or_file, story, title)
