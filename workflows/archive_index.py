"""index.html for the archive: what is inside, per store, readable offline in any browser.

One self-contained page: inline CSS, no script, no external asset (the person may open it
with no network, and a page that loads nothing cannot leak that it was opened). Every value
from a store is HTML-escaped; link targets are percent-encoded relative paths in the zip.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from urllib.parse import quote

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
        return '<p class="note">No description of this store was provided.</p>'
    rows = []
    for label, key in (
        ("Purpose", "purpose"),
        ("Categories of data", "categories"),
        ("Recipients", "recipients"),
        ("Retention", "retention"),
        ("Source", "source"),
    ):
        value = facts.get(key)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        rows.append(f"<dt>{label}</dt><dd>{_e(value or 'Not stated')}</dd>")
    return "<dl>" + "".join(rows) + "</dl>"


def _table(table: dict) -> str:
    parts = [
        f"<h3>{_e(table['table'])} — {table['rows']} record(s)</h3>",
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
                f'<p class="note">First {len(preview)} of {table["rows"]} records shown; '
                "the JSON and CSV files hold them all.</p>"
            )
    return "".join(parts)


def _files(store: dict) -> str:
    files = store["files"]
    if not files:
        return ""
    items = "".join(
        f'<li><a href="{_href(href)}">{_e(name)}</a> ({size} bytes)</li>'
        for href, name, size in files[:MAX_FILES_LISTED]
    )
    more = ""
    if len(files) > MAX_FILES_LISTED:
        more = (
            f'<p class="note">{len(files) - MAX_FILES_LISTED} more file(s) are in the '
            "archive; manifest.json lists every one.</p>"
        )
    return f"<h3>Files — {len(files)}</h3><ul>{items}</ul>{more}"


def _store(store: dict) -> str:
    parts = [f'<h2 id="{_e(store["anchor"])}">{_e(store["store"])}</h2>']
    parts.append(_description(store["facts"]))
    parts.extend(_table(t) for t in store["tables"])
    parts.append(_files(store))
    if not store["tables"] and not store["files"]:
        parts.append("<p>No data about you was found in this store.</p>")
    if store["tasks"]:
        parts.append(
            '<p class="note">Part of this store is handled by our staff by hand; anything '
            "it holds about you will be sent to you separately.</p>"
        )
    return "<section>" + "".join(parts) + "</section>"


_ACCESS_INTRO = (
    "<p>This archive holds the personal data we found about you, store by store. "
)
_EXPORT_INTRO = (
    "<p>This is an <strong>export under Article 20 GDPR</strong> (data portability): the "
    "personal data you provided to us, including what we recorded from your use of the "
    "service, in machine-readable form so that you can take it to another service. It leaves "
    "out data we derived or created ourselves; an access request gives you a copy of "
    "everything we hold, that data included. "
)


def _not_portable(entries: list[dict]) -> str:
    if not entries:
        return ""
    items = []
    for entry in entries:
        what = (
            "the whole store"
            if entry["whole_store"]
            else "table(s) " + ", ".join(_e(t) for t in entry["tables"])
        )
        items.append(f"<li>{_e(entry['store'])}: {what}</li>")
    return (
        '<section><h2 id="not-portable">Left out of this export</h2>'
        "<p>These hold data we derived or created ourselves, not data you provided, so "
        "Article 20 does not cover them. Ask for a copy of your data (an access request) to "
        f"receive them.</p><ul>{''.join(items)}</ul></section>"
    )


def render_index(
    *,
    company: str,
    reference: str,
    generated_at: str,
    request_type: str,
    stores: list[dict],
    not_portable: Sequence[dict] = (),
) -> str:
    """The whole index.html.

    ``stores``: ``[{"store", "anchor", "facts": <statement store dict or {}>,
    "tables": [{"table", "rows", "columns", "json_href", "csv_href", "preview": [row]}],
    "files": [(href, name, bytes)], "tasks": [{"action", "instructions"}]}]``.
    ``not_portable`` (export only): ``[{"store", "whole_store", "tables": [str]}]``, names
    of what the export leaves out.
    """
    export = request_type == "export"
    kind = "export of your data" if export else "copy of your data"
    toc = "".join(f'<li><a href="#{_e(s["anchor"])}">{_e(s["store"])}</a></li>' for s in stores)
    if export and not_portable:
        toc += '<li><a href="#not-portable">Left out of this export</a></li>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Your data — {_e(reference)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Your {kind} from {_e(company)}</h1>"
        f"<p>Request reference <strong>{_e(reference)}</strong>, generated "
        f"{_e(generated_at)}.</p>"
        + (_EXPORT_INTRO if export else _ACCESS_INTRO)
        + "<strong>report.pdf</strong> explains why we hold it, who receives it, how long we "
        "keep it and your rights. The <code>data</code> folder has every record as JSON and "
        "CSV; the <code>files</code> folder has your files; <code>manifest.json</code> lists "
        "the SHA-256 checksum of every file so you can check nothing was altered.</p>"
        f"<nav><ul>{toc}</ul></nav>"
        + "".join(_store(s) for s in stores)
        + (_not_portable(list(not_portable)) if export else "")
        + "</body></html>\n"
    )
