"""How the person's data is written into the archive: values, names and compression.

Values: every text goes through ``utf8_text``, so text UTF-8 cannot carry (a file name that
was not UTF-8 on disk, a lone surrogate from a JSON API) cannot fail every retry. JSON has no
type for some values; they are converted deterministically: datetime, date and time to ISO
8601, Decimal to its exact string, bytes to base64, UUID to str, sets to sorted lists, NaN /
infinities to "nan" / "inf" strings, anything else to ``str()``. In CSV, None is an empty
cell, booleans are ``true``/``false``, lists and dicts are JSON, and a text cell starting with
``= + - @`` or a tab/CR is prefixed with ``'`` so that a spreadsheet shows it instead of
running it as a formula; the JSON file keeps the exact value.

Names: store and table names become folder and file names (``safe_segment``), a store's file
paths stay relative and harmless (``safe_relative_path``), and no name is longer than
``NAME_BYTES`` (``short_name``). Members are deflated only when they are text.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import math
import re
import uuid
import zipfile
from pathlib import PurePosixPath

# Names whose content is text and worth deflating; everything else is stored as is.
_TEXT_SUFFIXES = {
    ".json",
    ".csv",
    ".html",
    ".htm",
    ".txt",
    ".md",
    ".log",
    ".xml",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".tsv",
    ".jsonl",
    ".ndjson",
    ".py",
    ".js",
    ".css",
    ".sql",
    ".eml",
}
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Bytes of one file name: under the 255 most file systems allow, leaving room for the "-2"
# that _FilePlaces may add.
NAME_BYTES = 200
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")



def utf8_text(text: str) -> str:
    """``text`` with each surrogate (``os.walk``'s ``caf\\udce9.txt``, ``json.loads`` of
    ``"\\ud800"``) replaced by U+FFFD, so that UTF-8 can carry it; valid text is unchanged.

    Not ``encode("utf-8", "surrogateescape")``: that still raises on ``\\ud800``.
    """
    return _SURROGATE.sub("\ufffd", text)


def json_value(value: object) -> object:
    """``value`` as a JSON-native value, converted the same way every time."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {utf8_text(str(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((json_value(v) for v in value), key=compact_json)
    return utf8_text(str(value))


def csv_cell(value: object) -> str:
    """One JSON value as a CSV cell (see the module docstring for the rules)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return compact_json(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def compact_json(value: object) -> str:
    """One JSON value on one line, as the staged JSON files hold each row."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def safe_segment(name: str) -> str:
    """A folder or file name for ``name`` that cannot escape or collide with another name."""
    name = utf8_text(name)
    if _SAFE_SEGMENT.fullmatch(name) and name not in (".", ".."):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:60] or "unnamed"
    # The hash keeps two different unsafe names from landing in the same place.
    return f"{cleaned}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def safe_relative_path(path: str) -> str:
    """``path`` made relative and harmless: no root, drive, ``..``, NUL or control characters,
    valid UTF-8, no name over ``NAME_BYTES``."""
    parts = []
    for part in re.split(r"[/\\]+", utf8_text(path)):
        part = re.sub(r"[\x00-\x1f\x7f]", "_", part).strip()
        if part in ("", ".", ".."):
            continue
        parts.append(short_name(part.replace(":", "_")))
    return "/".join(parts) or "unnamed"


def short_name(name: str) -> str:
    """``name`` if its UTF-8 fits in ``NAME_BYTES``, else its start, a hash of the whole name
    (two long names that start alike stay apart) and its suffix, if short."""
    data = name.encode("utf-8")
    if len(data) <= NAME_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode("utf-8")) > 16:
        suffix = ""
    tag = "-" + hashlib.sha256(data).hexdigest()[:8]
    room = NAME_BYTES - len(tag) - len(suffix.encode("utf-8"))
    # "ignore" drops the half character a byte cut can leave at the end; the rest is valid.
    return data[:room].decode("utf-8", "ignore") + tag + suffix


def compression_for(name: str) -> int:
    """ZIP_DEFLATED for text members, ZIP_STORED for the rest (usually compressed already)."""
    suffix = PurePosixPath(name).suffix.lower()
    return zipfile.ZIP_DEFLATED if suffix in _TEXT_SUFFIXES else zipfile.ZIP_STORED
