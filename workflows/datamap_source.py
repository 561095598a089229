"""Where things sit in a data-map file, and cycles in its identity graph: helpers of the loader.

Kept apart from `workflows.datamap` so the loader reads as the list of rules it enforces.
"""

from __future__ import annotations

import re

_KEY = re.compile(r'\s*([A-Za-z0-9_-]+(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=')


class SourceLines:
    """Where each store, table and key sits in the file, so messages can point at it."""

    def __init__(self, text: str):
        self.stores: list[dict] = []  # {"line", "keys", "tables": [{"line", "keys"}]}
        target: dict | None = None
        for n, line in enumerate(text.splitlines(), start=1):
            if re.match(r"\s*\[\[\s*stores\s*\]\]", line):
                target = {"line": n, "keys": {}, "tables": []}
                self.stores.append(target)
            elif re.match(r"\s*\[\[\s*stores\.tables\s*\]\]", line) and self.stores:
                target = {"line": n, "keys": {}}
                self.stores[-1]["tables"].append(target)
            elif target is not None and (m := _KEY.match(line)):
                # A dotted key (translations.ja.purpose) is recorded at every depth, so a
                # message about any part of it points at the line that starts it.
                parts = [part.strip().strip('"') for part in m.group(1).split(".")]
                for depth in range(1, len(parts) + 1):
                    target["keys"].setdefault(".".join(parts[:depth]), n)

    def _block(self, store: int, table: int | None) -> dict | None:
        if store >= len(self.stores):
            return None  # stores written as inline arrays: no line to point at
        block = self.stores[store]
        if table is None:
            return block
        return block["tables"][table] if table < len(block["tables"]) else None

    def keys(self, store: int, table: int | None = None) -> dict[str, int]:
        """1-based line of every ``key =`` in the store (or table) block."""
        block = self._block(store, table)
        return dict(block["keys"]) if block else {}

    def key(self, key: str | None, store: int, table: int | None = None) -> int | None:
        """1-based line of ``key =`` in the store (or table) block, else the block's header.

        A dotted key written as an inline table (``translations = { ja = {...} }``) has no line
        of its own: the line of its nearest written parent stands for it."""
        block = self._block(store, table)
        if not block:
            return None
        keys = block["keys"]
        while key and key not in keys and "." in key:
            key = key.rsplit(".", 1)[0]
        return keys.get(key, block["line"])


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the identity graph as a path of names, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None
