"""File stores: a folder per person under a root, named by a template such as ``{user_id}``.

Identity values come from other stores' data, so they are treated as hostile: a value with a
path separator or ``..`` never becomes a path, and the person's folder must resolve to the
exact place under the root with no symlink on the way. Symlinks inside the folder are
skipped, never followed: they could point at another person's files.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from workflows.datamap import template_fields
from workflows.stores.base import (
    ERASE_ACTIONS,
    EraseResult,
    FileItem,
    Identities,
    Store,
    StoreConfigError,
    TableOutcome,
)

OUTCOME_NAME = "files"


class FileStore(Store):
    """Folders on a local (or mounted) file system."""

    @property
    def root(self) -> Path:
        """The store root, resolved; StoreConfigError when it is missing."""
        root = Path(self.config.root or "")
        if not root.is_dir():
            raise StoreConfigError(f"{self.config.locate(key='root')}: root folder does not exist")
        return root.resolve()

    def check(self) -> list[str]:
        """The root must exist and be a folder."""
        try:
            return [] if self.root.is_dir() else ["root missing"]
        except StoreConfigError as err:
            return [str(err)]

    def person_folders(self, identities: Identities) -> Iterator[Path]:
        """The person's existing folders, each proven to sit inside the root."""
        root = self.root
        names = template_fields(self.config.path or "")
        choices = [sorted(v for v in identities.get(name, ()) if _safe_part(v)) for name in names]
        for combo in itertools.product(*choices):
            relative = Path(self.config.path.format(**dict(zip(names, combo, strict=True))))
            folder = root / relative
            # resolve() follows symlinks: equal only when no component is a link elsewhere.
            if folder.resolve() != folder or not folder.is_relative_to(root):
                continue
            if folder.is_dir():
                yield folder

    def find(self, identities: Identities) -> Iterator[FileItem]:
        """Stream every regular file in the person's folders (symlinks skipped)."""
        root = self.root
        for folder in self.person_folders(identities):
            for path in _walk_files(folder):
                yield FileItem(
                    store=self.name,
                    path=path.relative_to(root).as_posix(),
                    size=path.stat().st_size,
                    open=_opener(path),
                    on_erase=self.config.on_erase or "delete",
                )

    def count(self, identities: Identities) -> dict[str, int]:
        """How many of the person's files there are."""
        total = sum(1 for folder in self.person_folders(identities) for _ in _walk_files(folder))
        return {OUTCOME_NAME: total} if total else {}

    def erase(self, identities: Identities) -> EraseResult:
        """Remove the person's folders (delete) or count what is kept (retain)."""
        count = 0
        for folder in list(self.person_folders(identities)):
            count += sum(1 for _ in _walk_files(folder))
            if self.config.on_erase == "delete":
                # rmtree unlinks symlinks without following them, so nothing outside is touched.
                shutil.rmtree(folder)
        rule = self.config.on_erase or "delete"
        outcome = TableOutcome(OUTCOME_NAME, ERASE_ACTIONS[rule], count, self.config.retain_reason)
        return EraseResult(self.name, (outcome,))


def _safe_part(value: str) -> bool:
    """True when an identity value can name a folder without leaving its parent."""
    return bool(value) and value not in (".", "..") and not any(c in value for c in "/\\\0")


def _walk_files(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if not path.is_symlink() and path.is_file():
                yield path


def _opener(path: Path):
    def open_file():
        # O_NOFOLLOW: if the file was swapped for a symlink since the walk, refuse to open it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")

    return open_file
