"""Seed the CraftOS demo: build every store in a staging folder, then swap it into place.

Readers of the demo (the portal, a running benchmark) see either the old demo or the new one,
never a mix: the whole folder is built aside and renamed over the old one, and a lock file
serialises concurrent seeds. Logs carry counts only, never a person's data.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from workflows.demo import agent_memory, billing_db, craftos_db, token_vault, workspace_files

log = logging.getLogger(__name__)

DATAMAP_NAME = "stores.toml"
# Marks a folder as ours, so re-seeding never deletes a folder someone pointed us at by mistake.
MARKER_NAME = ".dsr-demo.json"
TEMPLATES = Path(__file__).parent


def seed(target_dir: Path, size: int = 1, seed: int = 42) -> Path:
    """(Re)create the CraftOS demo stores in `target_dir`; return the data map's path.

    Deterministic for a given (size, seed). Idempotent: re-running replaces the previous demo
    as a whole. `size` scales the filler people linearly (docs/DEMO.md gives rows and bytes).
    """
    if size < 0:
        raise ValueError("size must be 0 or more")
    target = Path(target_dir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _refuse_foreign_folder(target)
    with _seed_lock(target):
        _remove_leftovers(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
        try:
            summary = _build(staging, target, size, seed)
            _swap_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    log.info("demo seeded: size=%d seed=%d %s", size, seed, json.dumps(summary, sort_keys=True))
    return target / DATAMAP_NAME


def _build(staging: Path, target: Path, size: int, seed: int) -> dict:
    """Write every store into `staging`; the data map names their final paths under `target`."""
    started = time.monotonic()
    summary: dict = {"size": size, "seed": seed}
    summary["craftos.db"] = craftos_db.write(staging / "craftos.db", size, seed)
    summary["billing.db"] = billing_db.write(staging / "billing.db", size, seed)
    summary["vault.db"] = token_vault.write(staging / "vault.db", staging / "craftos.db", seed)
    files, file_bytes = workspace_files.write(staging / "files", size, seed)
    summary["files"] = {"files": files, "bytes": file_bytes}
    with_chroma = agent_memory.chroma_available()
    if with_chroma:
        summary["agent_memory"] = agent_memory.write(staging / "chroma", size, seed)
    else:
        log.warning("chromadb is not installed: the agent_memory store is left out of the demo "
                    "(install requirements-chroma.txt to include it)")
    (staging / DATAMAP_NAME).write_text(render_datamap(target, with_chroma), encoding="utf-8")
    summary["seconds"] = round(time.monotonic() - started, 2)
    (staging / MARKER_NAME).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def render_datamap(target: Path, with_chroma: bool) -> str:
    """The demo's data map with absolute paths under `target` (works from any directory)."""
    text = (TEMPLATES / "stores.toml.in").read_text(encoding="utf-8")
    if with_chroma:
        text += (TEMPLATES / "agent_memory.toml.in").read_text(encoding="utf-8")
    values = {
        "@CRAFTOS_URL@": f"sqlite:///{target / 'craftos.db'}",
        "@BILLING_URL@": f"sqlite:///{target / 'billing.db'}",
        "@VAULT_URL@": f"sqlite:///{target / 'vault.db'}",
        "@FILES_ROOT@": str(target / "files"),
        "@CHROMA_PATH@": str(target / "chroma"),
    }
    for placeholder, value in values.items():
        # json.dumps escapes quotes and backslashes the way TOML basic strings expect.
        text = text.replace(placeholder, json.dumps(value)[1:-1])
    return text


def _refuse_foreign_folder(target: Path) -> None:
    if target.exists() and any(target.iterdir()) and not (target / MARKER_NAME).exists():
        raise FileExistsError(
            f"{target} is not empty and was not made by `demo seed`; refusing to replace it")


@contextlib.contextmanager
def _seed_lock(target: Path) -> Iterator[None]:
    """An exclusive lock beside the target: two seeds at once would race on the final rename."""
    lock_path = target.parent / f".{target.name}.seed.lock"
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _remove_leftovers(target: Path) -> None:
    """Staging and old folders left by a killed seed; safe to delete since we hold the lock."""
    for pattern in (f".{target.name}.staging-*", f".{target.name}.old-*"):
        for leftover in target.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Two renames: the old demo moves aside, the new one takes its name, then the old goes.

    Between the renames the target is briefly absent; it never holds half of each demo.
    """
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "demo")
    os.rename(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
