"""index.html for the archive: what is inside, per store, readable offline in any browser.

One self-contained page: inline CSS, no script, no external asset (the person may open it
with no network, and a page that loads nothing cannot leak that it was opened). Every value
from a store is HTML-escaped; link targets are percent-encoded relative paths in the zip.

The fixed text is translated (flask_babel gettext, the active language: see
``workflows.document_language``); the values are printed as the stores and data map wrote them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from urllib.parse import quote

from flask_babel import gettext as _
from flask_babel import ngettext

from workflows.document_language import document_language, written_date
from workflows.store_groups import group_stores, store_title, table_title

MAX_CELL = 200  # characters of one value shown in the preview; the files hold the rest
MAX_FILES_LISTED = 1000  # per store, so a store with 100k files still gives a readable page

_CSS = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem;display:block;
overflow-x:auto}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}dt{font-weight:600}dd{margin:0 0 .4rem 0}
.note{color:#555;font-size:.9rem}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _href(path: str) -> str:
    return _e(quote(path, safe="/"))


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL] + "…"
    return _e(text)


def _description(facts: dict) -> str:
    if not facts:
        return '<p class="note">' + _("No description of this store was provided.") + "</p>"
    rows = []
    for label, key in (
        (_("Purpose"), "purpose"),
        (_("Categories of data"), "categories"),
        (_("Recipients"), "recipients"),
        (_("Retention"), "retention"),
        (_("Source"), "source"),
    ):
        value = facts.get(key)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        rows.append(f"<dt>{label}</dt><dd>{_e(value or _('Not stated'))}</dd>")
    return "<dl>" + "".join(rows) + "</dl>"


def _title(store: dict) -> str:
    """The store's name as a person reads it: the data map's title, else the store's id."""
    return store_title({**store["facts"], "store": store["store"]})


def _table(table: dict, facts: dict) -> str:
    parts = [
        "<h3>" + ngettext("%(table)s — %(num)s record", "%(table)s — %(num)s records",
                          table["rows"], table=_e(table_title(facts, table["table"])))
        + "</h3>",
        f'<p><a href="{_href(table["json_href"])}">JSON</a> · '
        f'<a href="{_href(table["csv_href"])}">CSV</a></p>',
    ]
    preview = table["preview"]
    if preview:
        columns = table["columns"]
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
            for row in preview
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if table["rows"] > len(preview):
            parts.append(
                '<p class="note">'
                + _("First %(shown)s of %(rows)s records shown; the JSON and CSV files hold "
                    "them all.", shown=len(preview), rows=table["rows"])
                + "</p>"
            )
    return "".join(parts)


def _files(store: dict) -> str:
    files = store["files"]
    if not files:
        return ""
    items = "".join(
        "<li>" + _("%(file)s (%(size)s bytes)", file=f'<a href="{_href(href)}">{_e(name)}</a>',
                   size=size) + "</li>"
        for href, name, size in files[:MAX_FILES_LISTED]
    )
    more = ""
    if len(files) > MAX_FILES_LISTED:
        more = (
            '<p class="note">'
            + ngettext("%(num)s more file is in the archive; manifest.json lists every one.",
                       "%(num)s more files are in the archive; manifest.json lists every one.",
                       len(files) - MAX_FILES_LISTED)
            + "</p>"
        )
    heading = _("Files — %(count)s", count=len(files))
    return f"<h3>{heading}</h3><ul>{items}</ul>{more}"


def _manual(store: dict) -> bool:
    return bool(store["tasks"]) or bool(store["facts"].get("manual"))


def _holds_data(store: dict) -> bool:
    return bool(store["tables"]) or bool(store["files"])


def _store(store: dict, level: str = "h2") -> str:
    parts = [f'<{level} id="{_e(store["anchor"])}">{_e(_title(store))}</{level}>']
    parts.append(_description(store["facts"]))
    parts.extend(_table(t, store["facts"]) for t in store["tables"])
    parts.append(_files(store))
    if _manual(store):
        parts.append(_by_staff(store))
    elif not store["tables"] and not store["files"]:
        parts.append("<p>" + _("No data about you was found in this store.") + "</p>")
    return "<section>" + "".join(parts) + "</section>"


def _by_staff(store: dict) -> str:
    """A store staff handle by hand: the archive is built once they have, so say what they
    confirmed and whether their export is in it (the files listed above)."""
    if store["files"]:
        done = _("Our staff exported your data from this system, which we cannot search "
                 "ourselves; the export is in the files folder of this archive.")
    else:
        done = _("Our staff checked this system by hand, as we cannot search it ourselves; no "
                 "export from it is included in this archive.")
    parts = [f'<p class="note">{done}</p>']
    note = store["facts"].get("note")
    if note:
        parts.append("<p>" + _("What our staff confirmed: %(note)s", note=_e(note)) + "</p>")
    return "".join(parts)


def _stores(stores: list[dict]) -> str:
    """Every store in the archive: those the search covered, in order, then those our staff
    checked by hand and found nothing of the person's in (report.pdf's rule and facts)."""
    _held, by_hand, _empty = group_stores(stores, _holds_data, _manual)
    parts = [_store(s) for s in stores if s not in by_hand]
    if by_hand:
        parts.append('<h2 id="checked-by-staff">' + _("Checked by our staff") + "</h2>")
        parts.extend(_store(s, "h3") for s in by_hand)
    return "".join(parts)


def _intro(export: bool) -> str:
    """What the archive is and where to look in it (one paragraph per kind, so that a
    translation can order its sentences freely)."""
    if export:
        text = _(
            "This is an <strong>export under Article 20 GDPR</strong> (data portability): the "
            "personal data you provided to us, including what we recorded from your use of the "
            "service, in machine-readable form so that you can take it to another service. It "
            "leaves out data we derived or created ourselves; an access request gives you a "
            "copy of everything we hold, that data included. <strong>report.pdf</strong> "
            "explains why we hold it, who receives it, how long we keep it and your rights. "
            "The <code>data</code> folder has every record as JSON and CSV; the "
            "<code>files</code> folder has your files; <code>manifest.json</code> lists the "
            "SHA-256 checksum of every file so you can check nothing was altered."
        )
    else:
        text = _(
            "This archive holds the personal data we found about you, store by store. "
            "<strong>report.pdf</strong> explains why we hold it, who receives it, how long "
            "we keep it and your rights. The <code>data</code> folder has every record as JSON "
            "and CSV; the <code>files</code> folder has your files; <code>manifest.json</code> "
            "lists the SHA-256 checksum of every file so you can check nothing was altered."
        )
    return f"<p>{text}</p>"


def _not_portable(entries: list[dict], described: dict) -> str:
    if not entries:
        return ""
    items = []
    for entry in entries:
        # A store left out whole was never staged: its facts come with the entry.
        facts = described.get(entry["store"]) or {**entry.get("facts", {}),
                                                   "store": entry["store"]}
        what = (
            _("the whole store")
            if entry["whole_store"]
            else ngettext("table %(tables)s", "tables %(tables)s", len(entry["tables"]),
                          tables=", ".join(_e(table_title(facts, t)) for t in entry["tables"]))
        )
        items.append("<li>" + _("%(store)s: %(tables)s", store=_e(store_title(facts)),
                                tables=what) + "</li>")
    return (
        '<section><h2 id="not-portable">' + _("Left out of this export") + "</h2><p>"
        + _("These hold data we derived or created ourselves, not data you provided, so "
            "Article 20 does not cover them. Ask for a copy of your data (an access request) "
            "to receive them.")
        + f"</p><ul>{''.join(items)}</ul></section>"
    )


def render_index(
    *,
    company: str,
    reference: str,
    generated_at: str,
    request_type: str,
    stores: list[dict],
    not_portable: Sequence[dict] = (),
    timezone: str | None = None,
) -> str:
    """The whole index.html, in the active language (``generated_at``: ISO 8601, shown in
    ``timezone``, the person's, in languages other than English).

    ``stores``: ``[{"store", "anchor", "facts": <statement store dict or {}>,
    "tables": [{"table", "rows", "columns", "json_href", "csv_href", "preview": [row]}],
    "files": [(href, name, bytes)], "tasks": [{"action", "instructions"}]}]``.
    ``not_portable`` (export only): ``[{"store", "whole_store", "tables": [str], "facts"}]``,
    what the export leaves out (``facts``: the statement's, for its titles).
    """
    export = request_type == "export"
    heading = (_("Your export of your data from %(company)s", company=_e(company)) if export
               else _("Your copy of your data from %(company)s", company=_e(company)))
    toc = "".join(f'<li><a href="#{_e(s["anchor"])}">{_e(_title(s))}</a></li>' for s in stores)
    if export and not_portable:
        toc += '<li><a href="#not-portable">' + _("Left out of this export") + "</a></li>"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(document_language())}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>" + _("Your data — %(reference)s", reference=_e(reference))
        + f"</title><style>{_CSS}</style></head><body>"
        f"<h1>{heading}</h1><p>"
        + _("Request reference <strong>%(reference)s</strong>, generated %(generated)s.",
            reference=_e(reference), generated=_e(written_date(generated_at, timezone)))
        + "</p>"
        + _intro(export)
        + f"<nav><ul>{toc}</ul></nav>"
        + _stores(stores)
        + (_not_portable(list(not_portable), {s["store"]: {**s["facts"], "store": s["store"]}
                                              for s in stores}) if export else "")
        + "</body></html>\n"
    )
