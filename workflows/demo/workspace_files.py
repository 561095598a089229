"""Workspace files: files/<user_id>/... per person (policy section 2.5, CraftBot Live workspaces).

Files are written in chunks so that --size can reach gigabytes without holding a file in memory.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from workflows.demo import named_rows
from workflows.demo.people import SALT_FILES, filler_people, person_rng

CHUNK_BYTES = 64 * 1024
WORDS = ("agent", "calendar", "launch", "draft", "review", "customer", "summary", "budget",
         "meeting", "roadmap", "notes", "follow-up", "integration", "workspace", "deadline")


def write(root: Path, size: int, seed: int) -> tuple[int, int]:
    """Create every person's workspace folder under `root`; returns (files, bytes) written."""
    files = total = 0
    for user_id, relative, kind, length in named_rows.FILES:
        rng = person_rng(seed, SALT_FILES, user_id)
        total += _write_file(root / str(user_id) / relative, kind, length, user_id, rng)
        files += 1
    for person in filler_people(size, seed):
        rng = person_rng(seed, SALT_FILES, person.user_id)
        folder = root / str(person.user_id)
        total += _write_file(folder / "notes.md", "text", rng.randint(1024, 4096),
                             person.user_id, rng)
        total += _write_file(folder / "agent-config.json", "json", 0, person.user_id, rng)
        # The uploads dominate the bytes: 8-72 KiB each, 40 KiB on average.
        total += _write_file(folder / "uploads" / f"upload-{rng.randint(1, 999):03d}.bin",
                             "binary", rng.randint(8, 72) * 1024, person.user_id, rng)
        files += 3
    return files, total


def _write_file(path: Path, kind: str, length: int, user_id: int, rng: random.Random) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in _content(kind, length, user_id, rng):
            out.write(chunk)
        return out.tell()


def _content(kind: str, length: int, user_id: int, rng: random.Random):
    if kind == "json":
        config = {"agent_name": f"CraftBot for user {user_id}", "language": "en",
                  "tools": sorted(rng.sample(("calendar", "email", "docs", "slack"), 2)),
                  "memory_enabled": True}
        yield json.dumps(config, indent=2).encode() + b"\n"
    elif kind == "text":
        yield from _text_chunks(length, rng)
    else:
        for start in range(0, length, CHUNK_BYTES):
            yield rng.randbytes(min(CHUNK_BYTES, length - start))


def _text_chunks(length: int, rng: random.Random):
    """Markdown-ish lines up to exactly `length` bytes."""
    written = 0
    chunk: list[bytes] = []
    while written < length:
        line = ("- " + " ".join(rng.choice(WORDS) for _ in range(8)) + "\n").encode()
        line = line[: length - written]
        chunk.append(line)
        written += len(line)
        if len(chunk) >= 256:
            yield b"".join(chunk)
            chunk.clear()
    yield b"".join(chunk)
