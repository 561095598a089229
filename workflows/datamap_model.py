"""The data map's shape: the frozen dataclasses a validated data map is loaded into.

Parsing and validation live in ``workflows.datamap`` (which re-exports these names); this
module only says what a store, a table and an identity match are.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

KINDS = ("sql", "files", "chroma", "http", "manual")
ON_ERASE = ("delete", "anonymize", "retain")
# Every identity graph starts from the verified email address.
ROOT_IDENTITY = "email"
# Texts a company may give in other languages (`translations.<language>.<key>`), per level.
TRANSLATABLE_STORE_KEYS = ("title", "purpose", "categories", "recipients", "retention",
                           "source", "retain_reason", "instructions")
TRANSLATABLE_TABLE_KEYS = ("title", "retain_reason")
LIST_KEYS = ("categories", "recipients")

# language code ('ja', 'ja-jp': lower case, '-' separated) -> translated key -> text or texts
Translations = dict[str, dict[str, str | tuple[str, ...]]]


class DataMapError(Exception):
    """The data map is invalid; ``messages`` lists every problem found."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Match:
    """A row belongs to the person when ``column`` holds one of their ``identity`` values."""

    column: str
    identity: str


class Translated:
    """The texts of a store or table that has ``translations`` (see TRANSLATABLE_*_KEYS)."""

    translations: Translations

    def translation(self, key: str, language: str | None) -> str | tuple[str, ...] | None:
        """``key`` (purpose, categories, retain_reason...) in ``language``, or None when the
        map gives none."""
        return pick_translation(self.translations, key, language)

    def text(self, key: str, language: str | None = None) -> str | tuple[str, ...] | None:
        """This entry's ``key`` for a reader of ``language``: its translation, else as written."""
        found = self.translation(key, language)
        return found if found is not None else getattr(self, key)

    def title_for(self, language: str | None = None) -> str:
        """What a person reads as this entry's name: its ``title`` in ``language`` (else as
        written), or its id when the map gives no title."""
        return self.text("title", language) or self.map_id


def table_title(store: StoreConfig | None, table: str, language: str | None = None) -> str:
    """A table's name for a person: the map's table ``title`` in ``language``; for a store
    without tables (files, chroma, http), the store's ``title``; else ``table`` itself (a
    table the map does not name or title)."""
    if store is None:
        return table
    owner = next((t for t in store.tables if t.table == table), None)
    if owner is not None:
        return owner.title_for(language)
    if not store.tables and store.title:
        return store.title_for(language)
    return table


@dataclass(frozen=True)
class TableMap(Translated):
    """One table of a sql store and what to do with the person's rows in it."""

    table: str
    match: Match
    on_erase: str
    title: str | None = None  # the table's name as a person reads it; the id when absent
    provides: dict[str, str] = field(default_factory=dict)  # identity name -> column
    exclude: tuple[str, ...] = ()
    correctable: tuple[str, ...] = ()
    anonymize: tuple[str, ...] | None = None  # None: every column but the primary key
    retain_reason: str | None = None
    # False: the company derived or created these rows itself; an Art. 20 export leaves them out.
    portable: bool = True
    translations: Translations = field(default_factory=dict)
    line: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def map_id(self) -> str:
        return self.table


@dataclass(frozen=True)
class StoreConfig(Translated):
    """One store of the data map. Kind-specific keys are optional fields here."""

    name: str
    kind: str
    title: str | None = None  # the store's name as a person reads it; the name when absent
    purpose: str | None = None
    categories: tuple[str, ...] = ()
    retention: str | None = None
    recipients: tuple[str, ...] = ()
    source: str | None = None
    tables: tuple[TableMap, ...] = ()
    url: str | None = None
    schema: str | None = None
    timeout: float | None = None
    retries: int | None = None
    token_env: str | None = None
    root: str | None = None
    path: str | None = None
    match_identity: str | None = None
    collection: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    on_erase: str | None = None
    retain_reason: str | None = None
    instructions: str | None = None
    portable: bool = True  # kinds without tables; a sql store says it per table
    translations: Translations = field(default_factory=dict)
    line: int | None = None
    source_path: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def locate(
        self, table: TableMap | None = None, key: str | None = None, line: int | None = None
    ) -> str:
        """``file:line: store 'x', table 't', field 'f'`` for messages about this store."""
        owner = table if table is not None else self
        line = line or owner.key_lines.get(key or "") or owner.line
        parts = [f"store {self.name!r}"]
        if table is not None:
            parts.append(f"table {table.table!r}")
        if key is not None:
            parts.append(f"field {key!r}")
        prefix = (
            f"{self.source_path or '<datamap>'}:{line}"
            if line
            else (self.source_path or "<datamap>")
        )
        return f"{prefix}: {', '.join(parts)}"

    @property
    def map_id(self) -> str:
        return self.name

    def identities_used(self) -> set[str]:
        """Identity names this store needs to find a person."""
        if self.kind == "sql":
            return {t.match.identity for t in self.tables}
        if self.kind == "files":
            return set(template_fields(self.path or ""))
        if self.kind == "chroma":
            return {f for v in self.where.values() for f in template_fields(v)}
        return set()


@dataclass(frozen=True)
class DataMap:
    """All stores of a company, in file order."""

    stores: tuple[StoreConfig, ...]
    source_path: str | None = None

    def store(self, name: str) -> StoreConfig:
        """The store called ``name``; KeyError if there is none."""
        for store in self.stores:
            if store.name == name:
                return store
        raise KeyError(name)


def language_tag(code: str) -> str:
    """A language code as translations are keyed: 'ja_JP' (Babel) and 'ja-JP' -> 'ja-jp'."""
    return code.strip().replace("_", "-").lower()


def pick_translation(translations: Translations, key: str, language: str | None):
    """``key`` in ``language`` from ``translations``: the exact language ('ja-jp'), else its
    base language ('ja'); None when neither translates it (the caller keeps the text as
    written in the base key)."""
    if not language or not translations:
        return None
    tag = language_tag(language)
    for candidate in (tag, tag.split("-")[0]):
        value = translations.get(candidate, {}).get(key)
        if value is not None:
            return value
    return None


def template_fields(template: str) -> list[str]:
    """Placeholder names in a ``{identity}`` template, e.g. ``"u/{user_id}"`` -> ``["user_id"]``."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return ["<malformed template>"]
