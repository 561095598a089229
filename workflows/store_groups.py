"""How the archive's two documents (index.html and report.pdf) group the stores, one rule for
both: where data of the person's was found, the stores our staff checked by hand (a manual
store with nothing of the person's in the archive), and those searched where nothing was found.
Each group gives the same Art. 15(1) facts in both documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def group_stores(
    stores: Iterable, holds_data: Callable, manual: Callable
) -> tuple[list, list, list]:
    """(held, checked by staff, found nothing), each in the order given."""
    held, by_hand, empty = [], [], []
    for store in stores:
        if holds_data(store):
            held.append(store)
        elif manual(store):
            by_hand.append(store)
        else:
            empty.append(store)
    return held, by_hand, empty


def store_title(store: dict) -> str:
    """A described store's name as a person reads it (``Store.describe``'s ``title``), its
    id when the description has none."""
    return store.get("title") or store.get("store") or ""


def table_title(store: dict, table: str) -> str:
    """A table's name as a person reads it, from a described store; the id without one."""
    return (store.get("table_titles") or {}).get(table) or table
