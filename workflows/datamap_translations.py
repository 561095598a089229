"""A data map entry's ``translations.<language>.<key>`` texts, checked against the entry.

Pure: each problem is reported to the caller's ``at.error(message, key=...)`` (the place in the
file it concerns, see ``workflows.datamap``) and the faulty text left out.
"""

from __future__ import annotations

import re
from typing import Protocol

from workflows.datamap_model import LIST_KEYS, Translations, language_tag

# A language code as BCP 47 writes it: 'ja', 'ja-JP', 'zh-Hant-TW' (any case; '_' is refused, as
# TOML files and HTML lang attributes write '-').
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class ErrorSink(Protocol):
    """Where a problem goes: a store or table of the file (``workflows.datamap._At``)."""

    def error(self, msg: str, key: str | None = None) -> None: ...


def parse_translations(at: ErrorSink, entry: dict, allowed: tuple[str, ...]) -> Translations:
    """``translations.<language>.<key>``: the store's (or table's) texts in other languages.

    Each translates a key this store or table sets, with that key's type (a text, or a
    list of texts for categories and recipients). A translated list may have more or fewer
    items than the original: a language may group or split categories its own way.
    """
    raw = entry.get("translations")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        at.error('must be a table of languages, e.g. translations.ja.purpose = "..."',
                 key="translations")
        return {}
    result: Translations = {}
    written: dict[str, str] = {}  # language tag -> the code as the file writes it
    for code, texts in raw.items():
        where = f"translations.{code}"
        if not _LANGUAGE.fullmatch(code):
            at.error(f"bad language code {code!r} (expected a code such as 'ja' or "
                     "'ja-JP')", key=where)
            continue
        if language_tag(code) in written:
            at.error(f"language {code!r} is given twice (as {written[language_tag(code)]!r} "
                     "too: codes ignore case)", key=where)
            continue
        written[language_tag(code)] = code
        if not isinstance(texts, dict):
            at.error(f'must be a table of texts, e.g. {where}.purpose = "..."', key=where)
            continue
        result[language_tag(code)] = translated_texts(at, entry, where, texts, allowed)
    return {code: texts for code, texts in result.items() if texts}

def translated_texts(
    at: ErrorSink, entry: dict, where: str, texts: dict, allowed: tuple[str, ...]
) -> dict:
    """One language's texts, each checked against the key it translates."""
    checked: dict = {}
    for key, value in texts.items():
        field_key = f"{where}.{key}"
        if key not in allowed:
            at.error(f"unknown key {key!r} (translatable here: {', '.join(allowed)})",
                     key=field_key)
            continue
        if key not in entry:
            at.error(f"translates {key!r}, which is not set here (a reader of any other "
                     "language would get no text)", key=field_key)
            continue
        if key in LIST_KEYS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                at.error(f"has the wrong type ({type(value).__name__}): a list of texts, "
                         f"as {key!r} is", key=field_key)
                continue
            value = tuple(value)
        elif not isinstance(value, str):
            at.error(f"has the wrong type ({type(value).__name__}): a text, as {key!r} is",
                     key=field_key)
            continue
        if not any(v.strip() for v in ((value,) if isinstance(value, str) else value)):
            at.error("is empty (leave it out to show the text as written)", key=field_key)
            continue
        checked[key] = value
    return checked
