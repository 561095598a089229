"""vault.db: where CraftBot Live keeps the OAuth tokens (policy sections 2.1, 2.3 and 5).

The tokens are "stored using strong encryption" apart from the product database, one sealed
token per live connection: revoking a connection deletes its token, so a revoked connection has
none. The demo's sealed values are fake (`demo-aes256gcm$` and a hash): no token of any provider
exists anywhere in the demo, and the data map never exports the column.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from workflows.demo.sqlite_batches import TableBatches, open_for_bulk_load

SCHEMA = """
CREATE TABLE sealed_tokens (
    connection_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL,
    sealed_token TEXT NOT NULL, key_version TEXT NOT NULL, sealed_at TEXT NOT NULL);
"""
INDEXES = "CREATE INDEX sealed_tokens_user ON sealed_tokens (user_id);"
COLUMNS = {"sealed_tokens": (
    "connection_id", "user_id", "provider", "sealed_token", "key_version", "sealed_at")}


def sealed_token(seed: int, connection_id: int) -> str:
    """Looks like a ciphertext; it decrypts to nothing, and no provider ever issued it."""
    digest = hashlib.sha256(f"{seed}:vault:{connection_id}".encode()).hexdigest()
    return f"demo-aes256gcm${digest}"


def write(path: Path, craftos_db: Path, seed: int) -> dict[str, int]:
    """Create vault.db at `path`: a sealed token for each live connection in `craftos_db`."""
    connection = open_for_bulk_load(path, SCHEMA)
    try:
        batches = TableBatches(connection, COLUMNS)
        with sqlite3.connect(craftos_db) as product:
            live = product.execute(
                "SELECT id, user_id, provider, connected_at FROM oauth_connections "
                "WHERE revoked_at IS NULL ORDER BY id")
            for connection_id, user_id, provider, connected_at in live:
                batches.add("sealed_tokens", (
                    connection_id, user_id, provider, sealed_token(seed, connection_id), "k1",
                    connected_at))
        batches.finish(INDEXES)
        return batches.row_counts
    finally:
        connection.close()
