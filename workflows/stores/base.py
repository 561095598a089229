"""The one interface every store connector implements, and the values it returns.

Identities travel as ``{"email": {"a@example.com"}, "user_id": {"42"}}``: identity name to
a set of string values. A connector only ever reads and writes the rows, files or vectors
whose owner column holds one of these values.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from workflows.datamap import StoreConfig

Identities = dict[str, set[str]]
CHUNK_SIZE = 1 << 20  # 1 MiB: large enough for throughput, small enough to keep memory flat


class StoreError(Exception):
    """A store step failed; the message names the store and says what went wrong."""


class StoreUnavailable(StoreError):
    """The store is down, slow or refused us: worth retrying later."""


class StoreConfigError(StoreError):
    """The data map does not fit the live store (missing table, column, collection...)."""


@dataclass(frozen=True)
class Record:
    """One row of the person's data, with excluded columns already dropped."""

    store: str
    table: str
    row: dict
    on_erase: str = "delete"


@dataclass(frozen=True)
class FileItem:
    """One of the person's files; ``open()`` gives a binary stream, ``chunks()`` iterates it."""

    store: str
    path: str  # relative to the store root, with "/" separators
    size: int
    open: Callable[[], BinaryIO]
    on_erase: str = "delete"

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the file's bytes in chunks of at most ``size``."""
        with self.open() as handle:
            while chunk := handle.read(size):
                yield chunk


@dataclass(frozen=True)
class ManualTask:
    """Work only a person can do (export from a vendor's dashboard, confirm an erasure)."""

    store: str
    action: str  # access | erase | correct
    instructions: str


Item = Record | FileItem | ManualTask


@dataclass(frozen=True)
class TableOutcome:
    """What erase did to one table (or a store's files / collection)."""

    table: str
    action: str  # deleted | anonymized | retained
    count: int
    reason: str | None = None


@dataclass(frozen=True)
class EraseResult:
    """Per-table outcome of an erasure; ``task`` is set when staff must finish it by hand."""

    store: str
    outcomes: tuple[TableOutcome, ...] = ()
    task: ManualTask | None = None

    @property
    def erased(self) -> int:
        """Rows or files deleted or anonymized (0 on a second, idempotent run)."""
        return sum(o.count for o in self.outcomes if o.action != "retained")


@dataclass(frozen=True)
class CorrectResult:
    """Rows changed per table; ``task`` is set when staff must apply the change by hand."""

    store: str
    counts: dict[str, int] = field(default_factory=dict)
    task: ManualTask | None = None


ERASE_ACTIONS = {"delete": "deleted", "anonymize": "anonymized", "retain": "retained"}


class Store(abc.ABC):
    """A place where the company keeps personal data, seen through one small interface."""

    def __init__(self, config: StoreConfig):
        self.config = config
        self.name = config.name

    def discover(self, identities: Identities) -> Identities:
        """Identities this store reveals (email -> user_id -> ...); most stores reveal none."""
        return {}

    @abc.abstractmethod
    def find(self, identities: Identities) -> Iterator[Item]:
        """Stream the person's records and files, never holding a whole table in memory."""

    @abc.abstractmethod
    def erase(self, identities: Identities) -> EraseResult:
        """Apply each table's on_erase rule to the person's data; idempotent."""

    def correct(self, identities: Identities, changes: dict[str, object]) -> CorrectResult:
        """Set correctable fields to new values on the person's rows; others are untouched."""
        return CorrectResult(self.name)

    def count(self, identities: Identities) -> dict[str, int]:
        """How many of the person's records (per table) and files this store holds."""
        counts: dict[str, int] = {}
        for item in self.find(identities):
            key = (
                item.table
                if isinstance(item, Record)
                else "files"
                if isinstance(item, FileItem)
                else None
            )
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        return counts

    def check(self) -> list[str]:
        """Problems with the live store (unreachable, missing table...); empty when fine."""
        return []

    def describe(self, language: str | None = None) -> dict:
        """Art. 15(1) facts for this store: purpose, categories, recipients, retention, source,
        in ``language`` where the data map translates them (as written otherwise); and the
        names a person reads: the store's ``title`` and each table's (the id without one)."""
        c = self.config
        return {
            "store": c.name,
            "title": c.title_for(language),
            "table_titles": {t.table: t.title_for(language) for t in c.tables},
            "kind": c.kind,
            "purpose": c.text("purpose", language),
            "categories": list(c.text("categories", language)),
            "recipients": list(c.text("recipients", language)),
            "retention": c.text("retention", language),
            "source": c.text("source", language),
            "on_erase": self.erase_rules(language),
        }

    def erase_rules(self, language: str | None = None) -> dict[str, dict]:
        """What erasure will do, per table: the rule and, for retain, the legal reason (in
        ``language`` where the data map translates it)."""
        c = self.config
        if c.tables:
            return {t.table: {"rule": t.on_erase, "reason": t.text("retain_reason", language)}
                    for t in c.tables}
        if c.on_erase:
            return {c.kind: {"rule": c.on_erase, "reason": c.text("retain_reason", language)}}
        return {}

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release connections; safe to call twice."""


_INTEGER = re.compile(r"-?[0-9]{1,19}")


def integer_identity(text: str) -> int | None:
    """The integer an identity value stands for in an integer column or metadata field, or None.

    ASCII digits only: int() also reads " 42\n", "4_2" and Arabic-Indic "٤٢" as 42 (and
    isdigit() takes "²", which int() refuses), which would let one person's identity match
    another's rows. And only what fits 64 bits: no integer column or Chroma field holds more,
    and SQLite raises OverflowError on it.
    """
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def merge_identities(into: Identities, found: Identities) -> bool:
    """Add ``found`` to ``into``; True when anything new was added."""
    grew = False
    for name, values in found.items():
        target = into.setdefault(name, set())
        before = len(target)
        target.update(values)
        grew = grew or len(target) != before
    return grew
