"""What an archive covers: everything for access (Art. 15), the portable part for export.

GDPR Art. 20 gives the person the data they *provided*: what they entered, and what the
service observed from their use of it (activity logs, history, uploads), per the EDPB (WP29)
guidelines on portability (WP242 rev.01). Data the company derived or created itself (inferred
scores, internal notes, analytics it computes) is outside Art. 20; the person still gets it
with an access request. The data map says which is which with ``portable`` (default true):
per table for sql stores, per store for the other kinds.
"""

from __future__ import annotations

import dataclasses

from workflows.datamap import DataMap, StoreConfig

EXPORT_SCOPE = (
    "GDPR Art. 20 data portability: the personal data you provided to us, including what we "
    "recorded from your use of the service, in machine-readable JSON and CSV. Data we derived "
    "or created ourselves is not included; an access request (GDPR Art. 15) gives you a copy "
    "of everything we hold, that data included."
)


def export_part(store: StoreConfig) -> StoreConfig | None:
    """``store`` narrowed to what an export covers; None when nothing of it is portable."""
    if store.kind != "sql":
        return store if store.portable else None
    tables = tuple(t for t in store.tables if t.portable)
    if not tables:
        return None
    return store if len(tables) == len(store.tables) else dataclasses.replace(store, tables=tables)


def left_out_of_export(datamap: DataMap) -> list[dict]:
    """Names (never data) of what an export leaves out, in data-map order.

    ``[{"store": name, "whole_store": bool, "tables": [table, ...]}]``; ``tables`` is empty
    for kinds that have none.
    """
    left_out = []
    for store in datamap.stores:
        tables = [t.table for t in store.tables if not t.portable]
        whole = export_part(store) is None
        if whole or tables:
            left_out.append({"store": store.name, "whole_store": whole, "tables": tables})
    return left_out
