"""Agent memory in ChromaDB (policy section 2.5: "ChromaDB vector databases, agent memory").

chromadb is an optional extra (requirements-chroma.txt): without it this store is skipped and
left out of the data map. Embeddings are explicit hashed vectors: chromadb's default embedding
function downloads a model at run time, which neither CI nor a fresh machine can do, and the demo
only needs vectors that are stable for a given text.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Iterator
from pathlib import Path

from workflows.demo import named_rows
from workflows.demo.people import SALT_MEMORY, filler_people, person_rng

log = logging.getLogger(__name__)

COLLECTION = "agent_memory"
EMBEDDING_DIM = 16
# Chroma caps one add() at a server-dependent batch size; this stays well under it.
BATCH = 2000
FACTS = ("prefers short summaries", "works in the {tz} time zone", "wants drafts in {lang}",
         "reviews the calendar every {day}", "keeps invoices in the Finance folder")
ZONES = ("Berlin", "Tokyo", "Pacific", "Madrid")
LANGUAGES = ("English", "Japanese", "German", "Spanish")
DAYS = ("Monday", "Friday", "morning", "evening")


def chroma_available() -> bool:
    try:
        import chromadb  # noqa: F401
    except ImportError:
        return False
    return True


def embed(text: str) -> list[float]:
    """A deterministic unit-length vector for `text`: sha256 bytes read as 16 signed shorts."""
    digest = hashlib.sha256(text.encode()).digest()
    values = struct.unpack(f">{EMBEDDING_DIM}h", digest[: 2 * EMBEDDING_DIM])
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


def memories(size: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """(id, user_id, text) for every memory, named people first."""
    for memory_id, user_id, text in named_rows.MEMORIES:
        yield memory_id, str(user_id), text
    for person in filler_people(size, seed):
        rng = person_rng(seed, SALT_MEMORY, person.user_id)
        for n in range(rng.randint(0, 4)):
            fact = rng.choice(FACTS).format(tz=rng.choice(ZONES), lang=rng.choice(LANGUAGES),
                                            day=rng.choice(DAYS))
            yield f"mem-{person.user_id}-{n + 1}", str(person.user_id), f"User {fact}."


def write(path: Path, size: int, seed: int) -> int:
    """Create the agent_memory collection in a persistent Chroma at `path`; returns memories."""
    import chromadb  # optional extra; callers check chroma_available() first

    client = chromadb.PersistentClient(path=str(path))
    try:
        # embedding_function=None: never let chromadb fetch its default model (see module doc).
        collection = client.create_collection(COLLECTION, embedding_function=None)
        batch: list[tuple[str, str, str]] = []
        total = 0
        for memory in memories(size, seed):
            batch.append(memory)
            if len(batch) >= BATCH:
                total += _add(collection, batch)
        total += _add(collection, batch)
        return total
    finally:
        # Chroma caches one System per path for the whole process; closing releases it, so the
        # staging folder can be renamed and a later client opens the final path afresh.
        client.close()


def _add(collection, batch: list[tuple[str, str, str]]) -> int:
    if not batch:
        return 0
    # user_id is stored as a string because identities travel as strings (workflows/stores/base.py)
    # and the data map's `where` template renders to one.
    collection.add(
        ids=[memory_id for memory_id, _, _ in batch],
        documents=[text for _, _, text in batch],
        metadatas=[{"user_id": user_id, "kind": "memory"} for _, user_id, _ in batch],
        embeddings=[embed(text) for _, _, text in batch],
    )
    count = len(batch)
    batch.clear()
    return count
