"""Fixtures for the demo generator tests: one real seeded demo per session (SQLite, files, Chroma).

Tests that only read share `seeded_demo`; tests that re-seed or break a seed get their own folder.
"""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import pytest

from workflows.datamap import DataMap, load_datamap
from workflows.demo import seed
from workflows.scan import resolve_identities
from workflows.stores import make_store


@pytest.fixture
def small_demo(tmp_path) -> DataMap:
    """Named people only (size 0): erasure tests need their own copy, and fast."""
    return load_datamap(seed(tmp_path / "demo", size=0))


def erase_everywhere(datamap: DataMap, email: str) -> None:
    """Erase the person in every store, as the deletion workflow's steps would."""
    identities = resolve_identities(datamap, email)
    for config in datamap.stores:
        store = make_store(config)
        try:
            store.erase(identities)
        finally:
            store.close()


@pytest.fixture(scope="session")
def seeded_demo(tmp_path_factory) -> Path:
    """The data map path of a size-1 demo, seeded once for every read-only test."""
    return seed(tmp_path_factory.mktemp("shared") / "demo", size=1, seed=42)


def load_map(datamap_path: Path) -> dict:
    return tomllib.loads(datamap_path.read_text(encoding="utf-8"))


def sqlite_path(url: str) -> str:
    assert url.startswith("sqlite:////"), url  # absolute paths only, see the data map contract
    return url.removeprefix("sqlite:///")


def rows_by_map(datamap_path: Path, email: str) -> dict[str, dict[str, int]]:
    """The person's rows per store and table, found by following the data map by hand.

    Independent of the connectors on purpose: it checks the demo data and its map agree with
    docs/DEMO.md even before (or without) workflows/stores.
    """
    stores = [s for s in load_map(datamap_path)["stores"] if s["kind"] == "sql"]
    identities: dict[str, set] = {"email": {email}}
    for store in stores:  # one pass suffices: every `provides` is fed by the email
        with sqlite3.connect(sqlite_path(store["url"])) as db:
            for table in store["tables"]:
                match = table["match"]
                if match["identity"] != "email":
                    continue
                for identity, column in table.get("provides", {}).items():
                    # Names come from the generated map (a test input we wrote), values are bound.
                    rows = db.execute(
                        f"SELECT {column} FROM {table['table']} "  # noqa: S608
                        f"WHERE {match['column']} = ?", (email,)).fetchall()
                    identities.setdefault(identity, set()).update(str(r[0]) for r in rows)
    counts: dict[str, dict[str, int]] = {}
    for store in stores:
        with sqlite3.connect(sqlite_path(store["url"])) as db:
            for table in store["tables"]:
                column, identity = table["match"]["column"], table["match"]["identity"]
                values = sorted(identities.get(identity, ()))
                found = 0
                if values:
                    marks = ", ".join("?" * len(values))
                    found = db.execute(
                        f"SELECT count(*) FROM {table['table']} "  # noqa: S608
                        f"WHERE {column} IN ({marks})", values).fetchone()[0]
                if found:
                    counts.setdefault(store["name"], {})[table["table"]] = found
    return counts


def dump_sqlite(path: Path) -> list[str]:
    """Every statement that rebuilds the database: equal dumps mean equal contents."""
    with sqlite3.connect(path) as db:
        return list(db.iterdump())
