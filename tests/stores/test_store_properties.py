"""Property tests: random people, random data maps, real SQLite files and folders.

Ground truth is computed in Python from the generated data, independently of the connectors:
who owns each row. The connectors must agree with it for every person and every map.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.datamap import parse_datamap
from workflows.scan import resolve_identities
from workflows.stores import FileItem, Record, make_store

RULES = ("delete", "anonymize", "retain")


@st.composite
def companies(draw):
    """People, child tables with random owners and cross references, and a rule per table."""
    people = draw(st.integers(min_value=2, max_value=5))
    # Emails in random case: the identity graph must still find the right person.
    emails = [
        draw(st.sampled_from([f"p{i}@example.com", f"P{i}@Example.COM"])) for i in range(people)
    ]
    owner = st.one_of(st.none(), st.integers(min_value=0, max_value=people - 1))
    tables = []
    for t in range(draw(st.integers(min_value=1, max_value=3))):
        rows = draw(st.lists(st.tuples(owner, owner), max_size=8))  # (owner, person referenced)
        via_account = draw(st.booleans())  # matched through a second-level identity
        tables.append(
            {
                "name": f"t{t}",
                "rows": rows,
                "rule": draw(st.sampled_from(RULES)),
                "via_account": via_account,
            }
        )
    with_files = draw(st.booleans())
    return {
        "emails": emails,
        "tables": tables,
        "files": with_files,
        "target": draw(st.integers(0, people - 1)),
    }


def build(company, workdir: Path):
    """Write the company's SQLite database, folders and data map; return the data map."""
    url = f"sqlite:///{workdir / 'co.db'}"
    engine = sa.create_engine(url)
    md = sa.MetaData()
    users = sa.Table(
        "users", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String)
    )
    accounts = sa.Table(
        "accounts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer),
    )
    children = {}
    for table in company["tables"]:
        children[table["name"]] = sa.Table(
            table["name"],
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("owner", sa.Integer, nullable=True),
            sa.Column("ref_user", sa.Integer, nullable=True),  # a reference, never ownership
            sa.Column("note", sa.String, nullable=False),
        )
    md.create_all(engine)
    with engine.begin() as conn:
        for i, email in enumerate(company["emails"]):
            conn.execute(users.insert().values(id=i + 1, email=email))
            conn.execute(accounts.insert().values(id=100 + i, user_id=i + 1))
        for table in company["tables"]:
            for n, (owner, ref) in enumerate(table["rows"]):
                key = (
                    None if owner is None else (100 + owner if table["via_account"] else owner + 1)
                )
                ref_user = None if ref is None else ref + 1
                conn.execute(
                    children[table["name"]]
                    .insert()
                    .values(id=n + 1, owner=key, ref_user=ref_user, note="x")
                )
    engine.dispose()
    toml = (
        f'[[stores]]\nname = "db"\nkind = "sql"\nurl = "{url}"\n'
        '[[stores.tables]]\ntable = "users"\nmatch = { column = "email", identity = "email" }\n'
        'provides = { user_id = "id" }\non_erase = "delete"\n'
        '[[stores.tables]]\ntable = "accounts"\n'
        'match = { column = "user_id", identity = "user_id" }\n'
        'provides = { account_id = "id" }\non_erase = "delete"\n'
    )
    for table in company["tables"]:
        identity = "account_id" if table["via_account"] else "user_id"
        reason = 'retain_reason = "Law"\n' if table["rule"] == "retain" else ""
        toml += (
            f'[[stores.tables]]\ntable = "{table["name"]}"\n'
            f'match = {{ column = "owner", identity = "{identity}" }}\n'
            f'on_erase = "{table["rule"]}"\n{reason}'
        )
    if company["files"]:
        for i in range(len(company["emails"])):
            (workdir / "files" / str(i + 1)).mkdir(parents=True)
            (workdir / "files" / str(i + 1) / "f.txt").write_text(f"file of {i}")
        toml += (
            f'[[stores]]\nname = "fs"\nkind = "files"\nroot = "{workdir / "files"}"\n'
            'path = "{user_id}"\non_erase = "delete"\n'
        )
    return parse_datamap(toml)


def owned_rows(company, person: int) -> dict[str, set[int]]:
    """Ground truth: the row ids each table holds for ``person``."""
    truth = {"users": {person + 1}, "accounts": {100 + person}}
    for table in company["tables"]:
        ids = {n + 1 for n, (owner, _) in enumerate(table["rows"]) if owner == person}
        if ids:
            truth[table["name"]] = ids
    return truth


def found(stores, identities) -> tuple[dict[str, set[int]], set[str], list]:
    rows: dict[str, set[int]] = {}
    files, records = set(), []
    for store in stores:
        for item in store.find(identities):
            if isinstance(item, Record):
                rows.setdefault(item.table, set()).add(item.row["id"])
                records.append(item)
            elif isinstance(item, FileItem):
                files.add(item.path)
    return rows, files, records


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(companies())
def test_find_returns_exactly_the_persons_records_never_anothers(company):
    with tempfile.TemporaryDirectory() as tmp:
        datamap = build(company, Path(tmp))
        stores = [make_store(c) for c in datamap.stores]
        for person, email in enumerate(company["emails"]):
            identities = resolve_identities(datamap, email.swapcase(), stores)
            rows, files, _ = found(stores, identities)
            assert rows == owned_rows(company, person)
            assert files == ({f"{person + 1}/f.txt"} if company["files"] else set())


@PROPERTY
@given(companies())
def test_find_after_erase_returns_nothing_erasable_and_others_keep_their_data(company):
    with tempfile.TemporaryDirectory() as tmp:
        datamap = build(company, Path(tmp))
        target = company["target"]
        stores = [make_store(c) for c in datamap.stores]
        everyone = [resolve_identities(datamap, e, stores) for e in company["emails"]]
        before = [found(stores, ids)[:2] for ids in everyone]

        for store in stores:
            store.erase(everyone[target])

        _, files, records = found(stores, everyone[target])
        assert files == set()
        assert {r.on_erase for r in records} <= {"retain"}
        retained = {t["name"] for t in company["tables"] if t["rule"] == "retain"}
        assert {r.table for r in records} == retained & set(owned_rows(company, target))
        for person, ids in enumerate(everyone):
            if person != target:
                assert found(stores, ids)[:2] == before[person]
        for store in stores:
            store.close()
