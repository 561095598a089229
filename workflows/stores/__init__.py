"""Store connectors: one module per kind of store, all behind ``base.Store``.

``make_store(config)`` is the only way in, so a job or the planner never needs to know
which kind of store it is talking to.
"""

from __future__ import annotations

import contextlib
import importlib

from workflows.datamap import StoreConfig
from workflows.stores.base import (
    CorrectResult,
    EraseResult,
    FileItem,
    Identities,
    Item,
    ManualTask,
    Record,
    Store,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
    TableOutcome,
)

# Imported on demand: the chroma connector needs an optional, heavy dependency.
_CONNECTORS = {
    "sql": ("workflows.stores.sql", "SqlStore"),
    "files": ("workflows.stores.files", "FileStore"),
    "chroma": ("workflows.stores.chroma", "ChromaStore"),
    "http": ("workflows.stores.http", "HttpStore"),
    "manual": ("workflows.stores.manual", "ManualStore"),
}


def warm_up() -> None:
    """Import every connector and its client library now, in a worker's parent process.

    RQ forks a fresh work-horse per job; whatever the parent has imported the fork inherits
    for free, while an import inside the job is paid again every time (about 2 s for chromadb).
    """
    for module_name, _ in _CONNECTORS.values():
        importlib.import_module(module_name)
    with contextlib.suppress(ImportError):  # chromadb is an optional extra
        importlib.import_module("chromadb")


def make_store(config: StoreConfig) -> Store:
    """The connector for ``config.kind``, configured but not yet connected."""
    module_name, class_name = _CONNECTORS[config.kind]
    return getattr(importlib.import_module(module_name), class_name)(config)


__all__ = [
    "CorrectResult",
    "EraseResult",
    "FileItem",
    "Identities",
    "Item",
    "ManualTask",
    "Record",
    "Store",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "TableOutcome",
    "make_store",
]
