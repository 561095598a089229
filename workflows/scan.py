"""Planning over the whole data map: resolve a person's identities, preview, check.

``resolve_identities`` runs before any per-store job is enqueued, so every job receives the
same, complete identity set. Keep that set with the request: after an erasure, the email
may no longer lead to the user id, and the verification pass needs the ids found before.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from workflows.datamap import ROOT_IDENTITY, DataMap, DataMapError, load_datamap
from workflows.stores import Identities, Store, StoreError, make_store
from workflows.stores.base import merge_identities

MAX_ROUNDS = 20  # the graph is acyclic, so this is a guard, not a tuning knob


def normalise_email(email: str) -> str:
    """The form every store is searched with: trimmed and lower-cased."""
    return email.strip().lower()


def resolve_identities(
    datamap: DataMap, email: str, stores: list[Store] | None = None
) -> Identities:
    """Every identity reachable from ``email`` across all stores, iterated to a fixed point."""
    identities: Identities = {ROOT_IDENTITY: {normalise_email(email)}}
    with ExitStack() as owned:
        if stores is None:
            stores = [make_store(config) for config in datamap.stores]
            for store in stores:
                owned.callback(store.close)
        for _ in range(MAX_ROUNDS):
            grew = False
            for store in stores:
                grew = merge_identities(identities, store.discover(identities)) or grew
            if not grew:
                return identities
    raise StoreError(f"identity graph did not settle after {MAX_ROUNDS} rounds")


def scan(datamap: DataMap, email: str) -> dict[str, dict[str, int]]:
    """What each store holds on the person, as counts per table (files count as ``files``).

    The preview staff see before approving a deletion. Manual stores report ``{}``: only a
    person can look there. A store that fails raises StoreError naming it.
    """
    stores = [make_store(config) for config in datamap.stores]
    try:
        identities = resolve_identities(datamap, email, stores)
        return {store.name: store.count(identities) for store in stores}
    finally:
        for store in stores:
            store.close()


def check_datamap(path: str | Path) -> list[str]:
    """Every problem with the data map at ``path``, the file first, then each live store.

    Empty when everything is fine. Live checks connect to each store (sql: tables and
    columns exist; files: root exists; chroma: the collection exists).
    """
    try:
        datamap = load_datamap(path)
    except DataMapError as err:
        return err.messages
    except OSError as err:
        return [f"{path}: cannot read the data map: {err.strerror}"]
    problems: list[str] = []
    for config in datamap.stores:
        store = make_store(config)
        try:
            problems += store.check()
        except StoreError as err:
            problems.append(f"{config.locate()}: {err}")
        finally:
            store.close()
    return problems
