"""SQL stores: any database SQLAlchemy can reach (SQLite, PostgreSQL, MySQL/MariaDB).

Table and column names come from the data map and are checked against the live, reflected
schema before use; identity values only ever travel as bound parameters. A row is the
person's only when its ``match`` column holds one of their identities.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from workflows.datamap import ROOT_IDENTITY, StoreConfig, TableMap
from workflows.stores.base import (
    ERASE_ACTIONS,
    CorrectResult,
    EraseResult,
    Identities,
    Record,
    Store,
    StoreConfigError,
    StoreUnavailable,
    TableOutcome,
    integer_identity,
)

ERASED_MARKER = "[erased]"  # written into NOT NULL text columns by anonymize
DEFAULT_CONNECT_TIMEOUT = 5.0
IN_CHUNK = 500  # values per IN (...): well under every driver's bound-parameter limit
YIELD_PER = 1000  # rows fetched per round trip when streaming


class SqlStore(Store):
    """A relational database; one ``[[stores.tables]]`` entry per table holding the person."""

    def __init__(self, config: StoreConfig):
        super().__init__(config)
        self._engine: sa.Engine | None = None
        self._tables: dict[str, sa.Table] | None = None
        self._erase_order: list[str] = []

    # -- connection and schema -------------------------------------------------------------

    def _make_engine(self) -> sa.Engine:
        url = sa.make_url(self.config.url)
        if url.drivername == "postgresql":
            # The project ships psycopg 3; a plain postgresql:// URL would ask for psycopg2.
            url = url.set(drivername="postgresql+psycopg")
        timeout = self.config.timeout or DEFAULT_CONNECT_TIMEOUT
        backend = url.get_backend_name()
        connect_args: dict = {}
        if backend == "sqlite":
            database = url.database or ""
            # SQLite silently creates a missing file; a missing store must be an error instead.
            if (
                database
                and database != ":memory:"
                and not database.startswith("file:")
                and not Path(database).exists()
            ):
                raise StoreUnavailable(
                    f"store {self.name!r}: SQLite database file does not exist: {database}"
                )
            connect_args["timeout"] = timeout  # waiting on a locked database
        elif backend in ("postgresql", "mysql", "mariadb"):
            # libpq rounds down and ignores values under 2 seconds.
            connect_args["connect_timeout"] = max(2, math.ceil(timeout))
        # hide_parameters: a failed statement's message would otherwise quote the person's
        # email and other identities, and that message reaches the worker log.
        return sa.create_engine(
            url, connect_args=connect_args, pool_pre_ping=True, hide_parameters=True
        )

    @property
    def engine(self) -> sa.Engine:
        """The store's engine, created on first use."""
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    @contextmanager
    def _connect(self, begin: bool = False) -> Iterator[sa.Connection]:
        try:
            conn = self.engine.connect()
        except sa_exc.DBAPIError as err:
            raise self._unavailable(err) from None
        with conn:
            if begin:
                with conn.begin():
                    yield conn
            else:
                yield conn

    def _unavailable(self, err: Exception) -> StoreUnavailable:
        url = sa.make_url(self.config.url)
        # Only the first line of the driver's message: it names host and port, never the password.
        reason = (
            str(getattr(err, "orig", err)).strip().splitlines()[0]
            if str(err).strip()
            else type(err).__name__
        )
        return StoreUnavailable(
            f"store {self.name!r}: cannot reach {url.get_backend_name()} database "
            f"{url.host or url.database}: {reason}"
        )

    def schema_problems(self) -> list[str]:
        """Data-map entries that do not exist in (or do not fit) the live schema."""
        try:
            with self._connect() as conn:
                return self._reflect(conn)
        except sa_exc.DBAPIError as err:
            raise self._unavailable(err) from None

    def _reflect(self, conn: sa.Connection) -> list[str]:
        schema = self.config.schema
        inspector = sa.inspect(conn)
        existing = set(inspector.get_table_names(schema=schema))
        metadata = sa.MetaData(schema=schema)
        problems = []
        for tmap in self.config.tables:
            if tmap.table not in existing:
                problems.append(
                    f"{self.config.locate(tmap, 'table')}: no such table in the live database"
                )
                continue
            table = sa.Table(tmap.table, metadata, autoload_with=conn, schema=schema)
            problems += self._column_problems(table, tmap)
        if not problems:
            self._tables = {t.name: t for t in metadata.tables.values()}
            # Children before parents, so foreign keys never block a delete.
            self._erase_order = [t.name for t in reversed(metadata.sorted_tables)]
        return problems

    def _column_problems(self, table: sa.Table, tmap: TableMap) -> list[str]:
        problems = []
        named = [("match", tmap.match.column)] + [("provides", c) for c in tmap.provides.values()]
        named += [
            (key, c)
            for key in ("exclude", "correctable", "anonymize")
            for c in getattr(tmap, key) or ()
        ]
        for key, column in named:
            if column not in table.c:
                problems.append(
                    f"{self.config.locate(tmap, key)}: no column {column!r} in the live table"
                )
        if not problems and tmap.on_erase == "anonymize":
            for column in self._anonymized_columns(table, tmap):
                if not column.nullable and not _is_text(column):
                    problems.append(
                        f"{self.config.locate(tmap, 'anonymize')}: "
                        f"column {column.name!r} is NOT NULL "
                        "and not text, so anonymize cannot blank it"
                    )
        return problems

    def _table(self, name: str) -> sa.Table:
        if self._tables is None:
            problems = self.schema_problems()
            if problems:
                raise StoreConfigError("\n".join(problems))
        return self._tables[name]

    def check(self) -> list[str]:
        """Connect and compare the data map with the live schema."""
        try:
            return self.schema_problems()
        except StoreUnavailable as err:
            return [f"{self.config.locate()}: {err}"]

    def close(self) -> None:
        """Dispose of the connection pool."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- which rows are the person's ---------------------------------------------------------

    def _owned(self, tmap: TableMap, identities: Identities) -> Iterator[sa.ColumnElement[bool]]:
        """WHERE clauses selecting the person's rows, one per chunk of identity values."""
        table = self._table(tmap.table)
        column = table.c[tmap.match.column]
        values = sorted(identities.get(tmap.match.identity, ()))
        if tmap.match.identity == ROOT_IDENTITY:
            # Email addresses are compared case-insensitively; the planner passes them lower-cased.
            target, values = sa.func.lower(column), sorted({v.lower() for v in values})
        else:
            target, values = column, _coerce(column, values)
        for start in range(0, len(values), IN_CHUNK):
            yield target.in_(values[start : start + IN_CHUNK])

    def _tables_in_erase_order(self) -> list[TableMap]:
        self._table(self.config.tables[0].table)  # reflect once, which fixes the order
        order = {name: i for i, name in enumerate(self._erase_order)}
        return sorted(self.config.tables, key=lambda t: order.get(t.table, len(order)))

    # -- the interface -----------------------------------------------------------------------

    def discover(self, identities: Identities) -> Identities:
        """Follow every table's ``provides`` until no new identity appears."""
        known = {name: set(values) for name, values in identities.items()}
        found: Identities = {}
        grew = True
        while grew:
            grew = False
            for tmap in self.config.tables:
                if not tmap.provides:
                    continue
                table = self._table(tmap.table)
                columns = [table.c[c].label(identity) for identity, c in tmap.provides.items()]
                for row in self._stream(tmap, identities=known, columns=columns):
                    for identity, value in row.items():
                        if value is None:
                            continue
                        value = str(value)
                        if value not in known.setdefault(identity, set()):
                            known[identity].add(value)
                            found.setdefault(identity, set()).add(value)
                            grew = True
        return found

    def _stream(self, tmap: TableMap, identities: Identities, columns) -> Iterator[dict]:
        for clause in self._owned(tmap, identities):
            with self._connect() as conn:
                # Server-side cursor where the driver has one: memory stays flat at any table size.
                result = conn.execution_options(stream_results=True, yield_per=YIELD_PER).execute(
                    sa.select(*columns).where(clause)
                )
                for row in result.mappings():
                    yield dict(row)

    def find(self, identities: Identities) -> Iterator[Record]:
        """Stream the person's rows, table by table, without the excluded columns."""
        for tmap in self.config.tables:
            table = self._table(tmap.table)
            columns = [c for c in table.c if c.name not in tmap.exclude]
            for row in self._stream(tmap, identities, columns):
                yield Record(self.name, tmap.table, row, tmap.on_erase)

    def count(self, identities: Identities) -> dict[str, int]:
        """The person's rows per table, counted by the database."""
        counts: dict[str, int] = {}
        with self._connect() as conn:
            for tmap in self.config.tables:
                counts[tmap.table] = counts.get(tmap.table, 0) + self._count(conn, tmap, identities)
        return counts

    def _count(self, conn: sa.Connection, tmap: TableMap, identities: Identities) -> int:
        table = self._table(tmap.table)
        return sum(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(clause)).scalar_one()
            for clause in self._owned(tmap, identities)
        )

    def erase(self, identities: Identities) -> EraseResult:
        """Delete, anonymize or retain the person's rows, all tables in one transaction."""
        outcomes = []
        with self._connect(begin=True) as conn:
            for tmap in self._tables_in_erase_order():
                table = self._table(tmap.table)
                if tmap.on_erase == "retain":
                    count = self._count(conn, tmap, identities)
                else:
                    count = 0
                    for clause in self._owned(tmap, identities):
                        if tmap.on_erase == "delete":
                            stmt = sa.delete(table).where(clause)
                        else:
                            stmt = (
                                sa.update(table)
                                .where(clause)
                                .values(self._anonymized_values(table, tmap))
                            )
                        count += conn.execute(stmt).rowcount
                outcomes.append(
                    TableOutcome(
                        tmap.table, ERASE_ACTIONS[tmap.on_erase], count, tmap.retain_reason
                    )
                )
        return EraseResult(self.name, tuple(outcomes))

    def _anonymized_columns(self, table: sa.Table, tmap: TableMap) -> list[sa.Column]:
        if tmap.anonymize is not None:
            names = set(tmap.anonymize) | {tmap.match.column}
            return [c for c in table.c if c.name in names]
        # Default: everything but the key. NOT NULL non-text columns (timestamps, counters)
        # cannot be blanked and are kept, except the match column, which check() guards.
        return [
            c
            for c in table.c
            if not c.primary_key and (c.nullable or _is_text(c) or c.name == tmap.match.column)
        ]

    def _anonymized_values(self, table: sa.Table, tmap: TableMap) -> dict:
        # The match column is always blanked: that is what makes a second erase find nothing.
        return {
            c: (None if c.nullable else ERASED_MARKER)
            for c in self._anonymized_columns(table, tmap)
        }

    def correct(self, identities: Identities, changes: dict[str, object]) -> CorrectResult:
        """Apply ``changes`` to each table's correctable columns, on the person's rows only."""
        counts: dict[str, int] = {}
        with self._connect(begin=True) as conn:
            for tmap in self.config.tables:
                fields = {k: v for k, v in changes.items() if k in tmap.correctable}
                if not fields:
                    continue
                table = self._table(tmap.table)
                values = {table.c[k]: v for k, v in fields.items()}
                # Clauses are built first, so a corrected email still matches its old value.
                for clause in list(self._owned(tmap, identities)):
                    counts[tmap.table] = (
                        counts.get(tmap.table, 0)
                        + conn.execute(sa.update(table).where(clause).values(values)).rowcount
                    )
        return CorrectResult(self.name, counts)


def _is_text(column: sa.Column) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _coerce(column: sa.Column, values: list[str]) -> list:
    """Identity values (strings) as the column's type; values that cannot fit match nothing."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return list(values)
    if python_type is int:
        numbers = (integer_identity(value) for value in values)
        return [n for n in numbers if n is not None]
    return list(values)
