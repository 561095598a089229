"""ChromaDB stores: vectors (agent memory) whose metadata names the person.

chromadb is an optional extra (requirements-chroma.txt), imported only when a chroma store
is used. Records are read with ``collection.get(where=...)``, never by similarity search,
and the collection is opened without an embedding function: the default one downloads a
model at run time, which a privacy tool must not depend on (nor need: we never embed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from workflows.datamap import template_fields
from workflows.stores.base import (
    ERASE_ACTIONS,
    EraseResult,
    Identities,
    Record,
    Store,
    StoreConfigError,
    StoreError,
    TableOutcome,
    integer_identity,
)

BATCH = 500  # records per get()/delete(): bounded memory whatever the collection size


def _chromadb():
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError:
        raise StoreError(
            "chromadb is not installed: pip install -r requirements-chroma.txt"
        ) from None
    return chromadb, Settings


class ChromaStore(Store):
    """One collection in a persistent ChromaDB, filtered by metadata."""

    def __init__(self, config):
        super().__init__(config)
        self._collection = None

    @property
    def collection(self):
        """The configured collection; StoreConfigError when the path or collection is missing."""
        if self._collection is None:
            chromadb, settings = _chromadb()
            path = Path(self.config.path or "")
            if not path.is_dir():
                raise StoreConfigError(f"{self.config.locate(key='path')}: no ChromaDB at {path}")
            # Telemetry off: it would phone home, and this machine may have no network.
            client = chromadb.PersistentClient(
                path=str(path), settings=settings(anonymized_telemetry=False)
            )
            try:
                self._collection = client.get_collection(
                    self.config.collection, embedding_function=None
                )
            except Exception as err:  # chromadb raises NotFoundError or ValueError by version
                raise StoreConfigError(
                    f"{self.config.locate(key='collection')}: "
                    f"cannot open collection {self.config.collection!r}: {err}"
                ) from None
        return self._collection

    def check(self) -> list[str]:
        """The database folder and the collection must exist."""
        try:
            return [] if self.collection is not None else ["collection missing"]
        except StoreConfigError as err:
            return [str(err)]
        except StoreError as err:  # chromadb itself is missing
            return [f"{self.config.locate()}: {err}"]

    def where(self, identities: Identities) -> dict | None:
        """The metadata filter for the person, or None when they have no usable identity."""
        clauses = []
        for key, template in sorted(self.config.where.items()):
            names = template_fields(template)
            choices = [sorted(identities.get(name, ())) for name in names]
            texts = sorted(
                {
                    template.format(**dict(zip(names, c, strict=True)))
                    for c in itertools.product(*choices)
                }
            )
            # Ids are often stored as integers in metadata: also match the numeric form of
            # a bare "{user_id}" template. Chroma wants one type per $in, hence the $or.
            bare = len(names) == 1 and template == "{" + names[0] + "}"
            numbers = {integer_identity(t) for t in texts} if bare else set()
            numbers = sorted(n for n in numbers if n is not None)
            alternatives = [{key: {"$in": v}} for v in (texts, numbers) if v]
            if not alternatives:
                return None
            clauses.append(alternatives[0] if len(alternatives) == 1 else {"$or": alternatives})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _pages(self, where: dict, include: list[str]) -> Iterator[dict]:
        for offset in itertools.count(0, BATCH):
            page = self.collection.get(where=where, include=include, limit=BATCH, offset=offset)
            if not page["ids"]:
                return
            yield page

    def find(self, identities: Identities) -> Iterator[Record]:
        """The person's entries: id, document and metadata (never the embedding)."""
        where = self.where(identities)
        if where is None:
            return
        for page in self._pages(where, ["documents", "metadatas"]):
            ids = page["ids"]
            documents = page.get("documents") or [None] * len(ids)
            metadatas = page.get("metadatas") or [None] * len(ids)
            for entry_id, document, metadata in zip(ids, documents, metadatas, strict=True):
                row = {"id": entry_id, "document": document, "metadata": metadata}
                yield Record(
                    self.name, self.config.collection, row, self.config.on_erase or "delete"
                )

    def count(self, identities: Identities) -> dict[str, int]:
        """How many entries of the collection are the person's."""
        where = self.where(identities)
        total = sum(len(p["ids"]) for p in self._pages(where, [])) if where else 0
        return {self.config.collection: total} if total else {}

    def erase(self, identities: Identities) -> EraseResult:
        """Delete the person's entries by id (delete) or count what is kept (retain)."""
        where = self.where(identities)
        count = 0
        if where is not None and self.config.on_erase == "retain":
            count = self.count(identities).get(self.config.collection, 0)
        elif where is not None:
            # Always read from offset 0: the entries just deleted no longer match.
            while ids := self.collection.get(where=where, include=[], limit=BATCH)["ids"]:
                self.collection.delete(ids=ids)
                count += len(ids)
        rule = self.config.on_erase or "delete"
        outcome = TableOutcome(
            self.config.collection, ERASE_ACTIONS[rule], count, self.config.retain_reason
        )
        return EraseResult(self.name, (outcome,))

    def close(self) -> None:
        """Forget the collection handle (chromadb keeps its own client cache)."""
        self._collection = None
