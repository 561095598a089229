"""The data map: which stores hold personal data, and how to find a person in each.

The TOML file (``STORES_CONFIG``) is a contract with the company that writes it (see
docs/STORES.md). It is loaded into frozen dataclasses and validated as a whole, so that
every mistake is reported at once, each with the file, line, store, table and field it
concerns. Nothing here does I/O beyond reading the file; live checks (tables and columns
exist) live with the connectors and are run by ``workflows.scan.check_datamap``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workflows.datamap_model import (  # re-exported: callers import them from here
    KINDS,
    LIST_KEYS,
    ON_ERASE,
    ROOT_IDENTITY,
    TRANSLATABLE_STORE_KEYS,
    TRANSLATABLE_TABLE_KEYS,
    DataMap,
    DataMapError,
    Match,
    StoreConfig,
    TableMap,
    table_title,
    template_fields,
)
from workflows.datamap_source import SourceLines, find_cycle
from workflows.datamap_translations import parse_translations

__all__ = ["KINDS", "ON_ERASE", "ROOT_IDENTITY", "DataMap", "DataMapError", "Match",
           "StoreConfig", "TableMap", "load_datamap", "parse_datamap", "table_title",
           "template_fields"]

_COMMON_KEYS = {"name", "kind", "title", "purpose", "categories", "retention", "recipients",
                "source"}
# kind -> (required keys, optional keys), beyond the common ones.
_KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "sql": ({"url", "tables"}, {"schema", "timeout"}),
    "files": ({"root", "path", "on_erase"}, {"match_identity", "retain_reason", "portable"}),
    "chroma": ({"path", "collection", "where", "on_erase"}, {"retain_reason", "portable"}),
    "http": ({"url"}, {"timeout", "retries", "token_env", "portable"}),
    "manual": ({"instructions"}, {"portable"}),
}
# on_erase values that make sense per kind: a file or a vector cannot be half-erased.
_KIND_ON_ERASE = {"files": ("delete", "retain"), "chroma": ("delete", "retain")}
_TABLE_REQUIRED = {"table", "match", "on_erase"}
_TABLE_OPTIONAL = {"provides", "exclude", "correctable", "retain_reason", "anonymize", "portable",
                   "title", "translations"}


def load_datamap(path: str | Path) -> DataMap:
    """Read and validate the data map at ``path``; raise DataMapError listing every problem."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_datamap(text, str(path))


def parse_datamap(text: str, source: str = "<datamap>") -> DataMap:
    """Validate TOML ``text`` as a data map (``source`` names the file in messages)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DataMapError([f"{source}: not valid TOML: {err}"]) from None
    parser = _Parser(text, source)
    datamap = parser.parse(raw)
    if parser.errors:
        raise DataMapError(parser.errors)
    return datamap


@dataclass(frozen=True)
class _At:
    """A place in the file (a store, or a table of it) that errors are reported against."""

    parser: _Parser
    store_idx: int
    store: str | None
    table_idx: int | None = None
    table: str | None = None

    def error(self, msg: str, key: str | None = None) -> None:
        self.parser.error(msg, self.store_idx, self.store, self.table_idx, self.table, key)


def _check_flag(at: _At, key: str, value: object) -> bool:
    """A true/false key: a string such as "no" must not pass for false (or for true)."""
    if isinstance(value, bool):
        return True
    at.error(f"must be true or false, not {type(value).__name__} {value!r}", key=key)
    return False


class _Parser:
    def __init__(self, text: str, source: str):
        self.lines = SourceLines(text)
        self.source = source
        self.errors: list[str] = []

    def error(
        self,
        msg: str,
        store_idx: int,
        store: str | None,
        table_idx: int | None = None,
        table: str | None = None,
        key: str | None = None,
    ) -> None:
        line = self.lines.key(key, store_idx, table_idx)
        where = f"{self.source}:{line}" if line else self.source
        parts = [f"store {store!r}" if store else f"store #{store_idx + 1}"]
        if table is not None or table_idx is not None:
            parts.append(f"table {table!r}" if table else f"table #{(table_idx or 0) + 1}")
        if key:
            parts.append(f"field {key!r}")
        self.errors.append(f"{where}: {', '.join(parts)}: {msg}")

    def parse(self, raw: dict) -> DataMap:
        for key in sorted(set(raw) - {"stores", "version"}):
            self.errors.append(f"{self.source}: unknown top-level key {key!r}")
        stores_raw = raw.get("stores")
        if not isinstance(stores_raw, list) or not stores_raw:
            self.errors.append(f"{self.source}: no [[stores]] declared")
            return DataMap((), self.source)
        stores = []
        # Store names become folder names in the archive (data/<store>/, files/<store>/),
        # where "Files" and "files" are one folder once unzipped on macOS or Windows.
        seen: dict[str, tuple[str, int]] = {}
        for i, entry in enumerate(stores_raw):
            if not isinstance(entry, dict):
                self.errors.append(
                    f"{self.source}: stores entry #{i + 1} must be a [[stores]] table"
                )
                continue
            store = self.parse_store(i, entry)
            if store is None:
                continue
            folded = store.name.casefold()
            if folded in seen:
                first, at = seen[folded]
                case = "" if first == store.name else (
                    f": {first!r}, the same archive folder on a case-insensitive disk"
                )
                self.error(
                    f"duplicate store name (first declared as store #{at + 1}{case})",
                    i,
                    store.name,
                    key="name",
                )
            seen.setdefault(folded, (store.name, i))
            stores.append(store)
        datamap = DataMap(tuple(stores), self.source)
        self.check_identity_graph(datamap, stores_raw)
        return datamap

    def parse_store(self, i: int, entry: dict) -> StoreConfig | None:
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            self.error("missing required key 'name'", i, None, key="name")
            return None
        at = _At(self, i, name)
        kind = entry.get("kind")
        if kind not in KINDS:
            at.error(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})", key="kind")
            return None
        required, optional = _KIND_KEYS[kind]
        for key in sorted(required - set(entry)):
            at.error(f"missing required key {key!r} for kind {kind!r}")
        for key in sorted(set(entry) - required - optional - _COMMON_KEYS - {"translations"}):
            hint = " (a sql store sets it per [[stores.tables]])" if key == "portable" else ""
            at.error(f"unknown key {key!r} for kind {kind!r}{hint}", key=key)
        values = {k: entry[k] for k in (required | optional | _COMMON_KEYS) if k in entry}
        self.check_types(at, values)
        if "on_erase" in values:
            self.check_on_erase(at, values, _KIND_ON_ERASE.get(kind, ON_ERASE))
        if kind == "files":
            self.check_files_path(at, values)
        where = values.get("where", {})
        if kind == "chroma" and not all(isinstance(v, str) for v in where.values()):
            at.error('must be a table such as { user_id = "{user_id}" }', key="where")
            values.pop("where")
        tables = tuple(
            self.parse_table(i, name, j, t) for j, t in enumerate(values.pop("tables", None) or [])
        )
        if kind == "sql" and "tables" in entry and not tables:
            at.error("declares no [[stores.tables]]", key="tables")
        for listish in LIST_KEYS:
            if listish in values:
                values[listish] = tuple(values[listish])
        own_keys = required | optional | _COMMON_KEYS
        translatable = tuple(k for k in TRANSLATABLE_STORE_KEYS if k in own_keys)
        return StoreConfig(
            **values,
            tables=tuple(t for t in tables if t),
            translations=parse_translations(at, entry, translatable),
            line=self.lines.key("name", i),
            source_path=self.source,
            key_lines=self.lines.keys(i),
        )

    def check_types(self, at: _At, values: dict) -> None:
        expect = {"timeout": (int, float), "retries": int, "tables": list, "where": dict}
        expect.update(categories=list, recipients=list)
        for key, value in list(values.items()):
            if key == "portable":
                if not _check_flag(at, key, value):
                    values.pop(key)
                continue
            wanted = expect.get(key, str)
            if not isinstance(value, wanted) or isinstance(value, bool):
                at.error(f"has the wrong type ({type(value).__name__})", key=key)
                values.pop(key)
            elif key == "title" and not value.strip():
                at.error("is empty (leave it out to show the store's name)", key=key)
                values.pop(key)

    def check_on_erase(self, at: _At, values: dict, allowed: tuple) -> bool:
        rule = values.get("on_erase")
        if rule not in allowed:
            at.error(
                f"bad on_erase {rule!r} (expected one of {', '.join(allowed)})", key="on_erase"
            )
            return False
        if rule == "retain" and not values.get("retain_reason"):
            at.error(
                'on_erase = "retain" needs a retain_reason (the legal ground, shown to the person)',
                key="retain_reason",
            )
            return False
        return True

    def check_files_path(self, at: _At, values: dict) -> None:
        template = values.get("path")
        if template is None:
            return
        placeholders = template_fields(template)
        if not placeholders:
            at.error('path template names no identity, e.g. "{user_id}"', key="path")
        if Path(template).is_absolute() or ".." in Path(template).parts:
            at.error("path template must stay inside root (no absolute path, no '..')", key="path")
        wanted = values.get("match_identity")
        if wanted is not None and wanted not in placeholders:
            at.error(
                f"match_identity {wanted!r} is not a placeholder of path {template!r}",
                key="match_identity",
            )

    def parse_table(self, i: int, store: str, j: int, entry: dict) -> TableMap | None:
        table = entry.get("table") if isinstance(entry, dict) else None
        at = _At(self, i, store, j, table if isinstance(table, str) else None)
        if not isinstance(entry, dict):
            at.error("must be a table")
            return None
        for key in sorted(_TABLE_REQUIRED - set(entry)):
            at.error(f"missing required key {key!r}")
        for key in sorted(set(entry) - _TABLE_REQUIRED - _TABLE_OPTIONAL):
            at.error(f"unknown key {key!r}", key=key)
        match = entry.get("match")
        if "match" in entry and not (
            isinstance(match, dict)
            and set(match) == {"column", "identity"}
            and all(isinstance(v, str) for v in match.values())
        ):
            at.error('must be { column = "...", identity = "..." }', key="match")
            match = None
        provides = entry.get("provides", {})
        if not (isinstance(provides, dict) and all(isinstance(v, str) for v in provides.values())):
            at.error('must map identity names to columns, e.g. { user_id = "id" }', key="provides")
            provides = {}
        lists = {}
        for key in ("exclude", "correctable", "anonymize"):
            value = entry.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                at.error("must be a list of column names", key=key)
                value = []
            lists[key] = tuple(value)
        title = entry.get("title")
        if title is not None and not (isinstance(title, str) and title.strip()):
            at.error("must be a text naming the table for a person", key="title")
            title = None
        rule_ok = "on_erase" in entry and self.check_on_erase(at, entry, ON_ERASE)
        portable = entry.get("portable", True)
        portable_ok = _check_flag(at, "portable", portable)
        if not isinstance(table, str) or not match or not rule_ok or not portable_ok:
            return None
        if match["column"] in lists["exclude"]:
            at.error("the match column cannot be excluded", key="exclude")
        return TableMap(
            table=table,
            match=Match(match["column"], match["identity"]),
            on_erase=entry["on_erase"],
            title=title,
            provides=dict(provides),
            exclude=lists["exclude"],
            correctable=lists["correctable"],
            anonymize=lists["anonymize"] if "anonymize" in entry else None,
            retain_reason=entry.get("retain_reason"),
            portable=portable,
            translations=parse_translations(at, entry, TRANSLATABLE_TABLE_KEYS),
            line=self.lines.key("table", i, j),
            key_lines=self.lines.keys(i, j),
        )

    def check_identity_graph(self, datamap: DataMap, raw_stores: list) -> None:
        """Every identity used must be discovered from the email, and discovery must not loop.

        A loop (user_id -> workspace_id -> user_id) is refused rather than iterated: it is how
        an identity graph leaks from one person to everyone sharing a workspace with them.
        Edges come from the raw file, so one broken table does not cascade into more errors.
        """
        edges: dict[str, set[str]] = {}
        for entry in raw_stores:
            for table in (entry.get("tables") or []) if isinstance(entry, dict) else []:
                match, provides = (
                    (table.get("match"), table.get("provides"))
                    if isinstance(table, dict)
                    else (0, 0)
                )
                if isinstance(match, dict) and isinstance(provides, dict):
                    edges.setdefault(str(match.get("identity")), set()).update(provides)
        provided = {ROOT_IDENTITY} | {name for targets in edges.values() for name in targets}
        for store in datamap.stores:
            for table in store.tables:
                if table.match.identity not in provided:
                    self.errors.append(
                        f"{store.locate(table, 'match')}: identity {table.match.identity!r} is "
                        "provided by no table (add `provides` to the table that holds it)"
                    )
            if store.kind in ("files", "chroma"):
                key = "path" if store.kind == "files" else "where"
                for name in sorted(store.identities_used() - provided):
                    self.errors.append(
                        f"{store.locate(key=key)}: unknown placeholder {{{name}}}: "
                        f"no table provides identity {name!r}"
                    )
        cycle = find_cycle(edges)
        if cycle:
            self.errors.append(
                f"{self.source}: identity graph has a cycle: {' -> '.join(cycle)} "
                "(each identity must be discovered from the email in one direction)"
            )
