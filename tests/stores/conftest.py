"""Fixtures for the store connector tests: real SQLite files, real PostgreSQL schemas.

The people database models the hard cases of the data map:
- alice owns workspace 10, bob is a member of it and wrote a document in it;
- ticket 20 was opened by alice and has two participants, alice and bob;
- alice's order 40 was paid with bob's card 31 (a reference to someone else's row);
- invoices are retained for tax law.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from workflows.datamap import DataMap, parse_datamap

ALICE, BOB, CAROL = 1, 2, 3
EMAILS = {ALICE: "Alice@Example.com", BOB: "bob@example.com", CAROL: "carol@example.com"}


def people_metadata(schema: str | None = None) -> sa.MetaData:
    """The test company's tables, with real foreign keys (enforced on PostgreSQL)."""
    md = sa.MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""

    def fk(target: str) -> sa.ForeignKey:
        return sa.ForeignKey(prefix + target)

    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200)),
        sa.Column("password_hash", sa.String(200)),
    )
    sa.Table(
        "workspaces",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, fk("users.id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    sa.Table(
        "workspace_members",
        md,
        sa.Column("workspace_id", sa.Integer, fk("workspaces.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, fk("users.id"), primary_key=True),
    )
    sa.Table(
        "documents",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.Integer, fk("workspaces.id")),
        sa.Column("author_id", sa.Integer, fk("users.id")),
        sa.Column("body", sa.Text),
    )
    sa.Table(
        "tickets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("opened_by", sa.Integer, fk("users.id"), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
    )
    sa.Table(
        "ticket_participants",
        md,
        sa.Column("ticket_id", sa.Integer, fk("tickets.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, fk("users.id"), primary_key=True),
    )
    sa.Table(
        "ticket_messages",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, fk("tickets.id")),
        sa.Column("author_id", sa.Integer, fk("users.id"), nullable=True),
        sa.Column("body", sa.Text),
    )
    sa.Table(
        "cards",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, fk("users.id")),
        sa.Column("last4", sa.String(4)),
    )
    sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, fk("users.id")),
        sa.Column("card_id", sa.Integer, fk("cards.id")),
        sa.Column("amount", sa.Integer),
    )
    # No foreign key: retained billing rows outlive the account they belonged to.
    sa.Table(
        "invoices",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("amount", sa.Integer),
    )
    return md


PEOPLE_ROWS = {
    "users": [
        {"id": uid, "email": EMAILS[uid], "name": n, "password_hash": f"hash-{uid}"}
        for uid, n in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"))
    ],
    "workspaces": [
        {"id": 10, "owner_id": ALICE, "name": "Alice & Bob"},
        {"id": 11, "owner_id": BOB, "name": "Bob"},
    ],
    "workspace_members": [
        {"workspace_id": 10, "user_id": BOB},
        {"workspace_id": 11, "user_id": CAROL},
    ],
    "documents": [
        {"id": 100, "workspace_id": 10, "author_id": ALICE, "body": "alice notes"},
        {"id": 101, "workspace_id": 10, "author_id": BOB, "body": "bob notes"},
        {"id": 102, "workspace_id": 11, "author_id": BOB, "body": "bob private"},
    ],
    "tickets": [
        {"id": 20, "opened_by": ALICE, "subject": "Login broken"},
        {"id": 21, "opened_by": CAROL, "subject": "Refund"},
    ],
    "ticket_participants": [
        {"ticket_id": 20, "user_id": ALICE},
        {"ticket_id": 20, "user_id": BOB},
        {"ticket_id": 21, "user_id": CAROL},
    ],
    "ticket_messages": [
        {"id": 200, "ticket_id": 20, "author_id": ALICE, "body": "it fails"},
        {"id": 201, "ticket_id": 20, "author_id": BOB, "body": "me too"},
        {"id": 202, "ticket_id": 21, "author_id": CAROL, "body": "refund please"},
    ],
    "cards": [
        {"id": 30, "owner_id": ALICE, "last4": "1111"},
        {"id": 31, "owner_id": BOB, "last4": "2222"},
    ],
    "orders": [
        {"id": 40, "user_id": ALICE, "card_id": 31, "amount": 5},
        {"id": 41, "user_id": BOB, "card_id": 31, "amount": 7},
    ],
    "invoices": [
        {"id": 50, "user_id": ALICE, "amount": 5},
        {"id": 51, "user_id": BOB, "amount": 7},
    ],
}

PEOPLE_TABLES_TOML = """
  [[stores.tables]]
  table = "users"
  match = { column = "email", identity = "email" }
  provides = { user_id = "id" }
  exclude = ["password_hash"]
  correctable = ["name", "email"]
  on_erase = "delete"
  [[stores.tables]]
  table = "workspaces"
  match = { column = "owner_id", identity = "user_id" }
  on_erase = "anonymize"
  anonymize = ["owner_id"]
  [[stores.tables]]
  table = "workspace_members"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "documents"
  match = { column = "author_id", identity = "user_id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "tickets"
  match = { column = "opened_by", identity = "user_id" }
  on_erase = "anonymize"
  [[stores.tables]]
  table = "ticket_participants"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "ticket_messages"
  match = { column = "author_id", identity = "user_id" }
  correctable = ["body"]
  on_erase = "delete"
  [[stores.tables]]
  table = "cards"
  match = { column = "owner_id", identity = "user_id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "orders"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "delete"
  [[stores.tables]]
  table = "invoices"
  match = { column = "user_id", identity = "user_id" }
  on_erase = "retain"
  retain_reason = "Tax law: billing records are kept 7 years"
"""


@dataclass
class PeopleDb:
    """A live people database and the data map pointing at it."""

    url: str
    schema: str | None
    engine: sa.Engine
    metadata: sa.MetaData

    def toml(self, name: str = "app") -> str:
        schema = f'schema = "{self.schema}"\n' if self.schema else ""
        return (
            f'[[stores]]\nname = "{name}"\nkind = "sql"\nurl = "{self.url}"\n{schema}'
            f'purpose = "Run the service"\n' + PEOPLE_TABLES_TOML
        )

    def datamap(self) -> DataMap:
        return parse_datamap(self.toml(), "stores.toml")

    def rows(self, table: str) -> list[dict]:
        t = self.metadata.tables[f"{self.schema}.{table}" if self.schema else table]
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()
            ]


def _fill(engine: sa.Engine, md: sa.MetaData, schema: str | None) -> None:
    md.create_all(engine)
    with engine.begin() as conn:
        for table in md.sorted_tables:
            conn.execute(table.insert(), PEOPLE_ROWS[table.name])


@pytest.fixture
def sqlite_people(tmp_path: Path):
    """The people database in a fresh SQLite file."""
    url = f"sqlite:///{tmp_path / 'people.db'}"
    engine = sa.create_engine(url)
    md = people_metadata()
    _fill(engine, md, None)
    yield PeopleDb(url, None, engine, md)
    engine.dispose()


def _pg_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests need a real server")
    return url


@pytest.fixture
def pg_schema():
    """A private PostgreSQL schema, dropped afterwards: other test runs share the database."""
    url = _pg_url()
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    schema = f"dsr_stores_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    try:
        yield url, schema, engine
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


@pytest.fixture
def pg_people(pg_schema):
    """The people database in a private PostgreSQL schema."""
    url, schema, engine = pg_schema
    md = people_metadata(schema)
    _fill(engine, md, schema)
    return PeopleDb(url, schema, engine, md)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def people(request):
    """The people database on each real engine available."""
    return request.getfixturevalue(
        {"sqlite": "sqlite_people", "postgresql": "pg_people"}[request.param]
    )
