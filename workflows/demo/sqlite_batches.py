"""Bulk loading for the demo SQLite databases: bounded buffers flushed with executemany."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Large enough that executemany dominates, small enough that memory stays flat at any --size.
BATCH_ROWS = 5000


def open_for_bulk_load(path: Path, schema: str) -> sqlite3.Connection:
    """A fresh database with its schema, tuned for a one-shot load.

    The journal and fsyncs are off because the file is written in a staging folder that is only
    swapped into place once complete: a crash leaves garbage to discard, never a half demo.
    """
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.executescript(schema)
    return connection


class TableBatches:
    """Buffers rows per table and flushes each buffer when it reaches BATCH_ROWS.

    The column order of each table is given once; rows are plain tuples in that order.
    """

    def __init__(self, connection: sqlite3.Connection, columns: dict[str, tuple[str, ...]]):
        self._connection = connection
        # Table and column names come from the generator's own constants, never from input.
        self._statements = {
            table: f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608  # nosec B608
                   f"VALUES ({', '.join('?' * len(cols))})"
            for table, cols in columns.items()
        }
        self._buffers: dict[str, list[tuple]] = {table: [] for table in columns}
        self.row_counts: dict[str, int] = dict.fromkeys(columns, 0)

    def add(self, table: str, row: tuple) -> None:
        buffer = self._buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        buffer = self._buffers[table]
        if buffer:
            self._connection.executemany(self._statements[table], buffer)
            self.row_counts[table] += len(buffer)
            buffer.clear()

    def finish(self, indexes: str = "") -> None:
        """Flush every buffer, then build indexes (faster after the load than during it)."""
        for table in self._buffers:
            self._flush(table)
        if indexes:
            self._connection.executescript(indexes)
        self._connection.commit()
