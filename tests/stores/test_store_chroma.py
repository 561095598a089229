"""The chroma connector against a real persistent ChromaDB (skipped without chromadb)."""

from __future__ import annotations

import pytest

from workflows.datamap import parse_datamap
from workflows.stores import Record, make_store

chromadb = pytest.importorskip(
    "chromadb", reason="chromadb not installed (requirements-chroma.txt)"
)


def chroma_store(path, on_erase="delete", where='{ user_id = "{user_id}" }'):
    reason = 'retain_reason = "Audit"\n' if on_erase == "retain" else ""
    text = (
        '[[stores]]\nname = "acc"\nkind = "sql"\nurl = "sqlite:///x.db"\n'
        '[[stores.tables]]\ntable = "users"\nmatch = { column = "email", identity = "email" }\n'
        'provides = { user_id = "id" }\non_erase = "delete"\n'
        f'[[stores]]\nname = "memory"\nkind = "chroma"\npath = "{path}"\n'
        f'collection = "agent_memory"\nwhere = {where}\non_erase = "{on_erase}"\n{reason}'
    )
    return make_store(parse_datamap(text).store("memory"))


@pytest.fixture
def chroma_path(tmp_path):
    from chromadb.config import Settings

    path = tmp_path / "chroma"
    client = chromadb.PersistentClient(
        path=str(path), settings=Settings(anonymized_telemetry=False)
    )
    # No embedding function: the default one downloads a model. Embeddings are given explicitly.
    collection = client.create_collection("agent_memory", embedding_function=None)
    owners = ["1"] * 3 + [1] * 2 + ["2"] * 4 + ["12"]  # alice as str and int, bob, a lookalike id
    collection.add(
        ids=[f"m{i}" for i in range(len(owners))],
        documents=[f"memory {i} of {o}" for i, o in enumerate(owners)],
        metadatas=[{"user_id": o, "kind": "fact"} for o in owners],
        embeddings=[[float(i), 0.5, 0.25] for i in range(len(owners))],
    )
    return path


def test_find_returns_the_persons_entries_without_embeddings(chroma_path):
    records = list(chroma_store(chroma_path).find({"user_id": {"1"}}))
    assert all(isinstance(r, Record) and r.table == "agent_memory" for r in records)
    assert sorted(r.row["id"] for r in records) == ["m0", "m1", "m2", "m3", "m4"]
    assert set(records[0].row) == {"id", "document", "metadata"}
    assert records[0].row["document"].startswith("memory ")


def test_count_and_no_identity_means_nothing_found(chroma_path):
    store = chroma_store(chroma_path)
    assert store.count({"user_id": {"2"}}) == {"agent_memory": 4}
    assert list(store.find({"email": {"a@b.c"}})) == []


def test_erase_deletes_only_the_persons_entries_and_is_idempotent(chroma_path):
    store = chroma_store(chroma_path)
    assert store.erase({"user_id": {"1"}}).erased == 5
    assert store.erase({"user_id": {"1"}}).erased == 0
    assert list(store.find({"user_id": {"1"}})) == []
    assert store.count({"user_id": {"2"}}) == {"agent_memory": 4}
    assert store.count({"user_id": {"12"}}) == {"agent_memory": 1}


def test_erase_with_retain_keeps_entries(chroma_path):
    result = chroma_store(chroma_path, on_erase="retain").erase({"user_id": {"2"}})
    assert [(o.action, o.count, o.reason) for o in result.outcomes] == [("retained", 4, "Audit")]
    assert chroma_store(chroma_path).count({"user_id": {"2"}}) == {"agent_memory": 4}


def test_where_with_two_keys_matches_both(chroma_path):
    store = chroma_store(chroma_path, where='{ user_id = "{user_id}", kind = "fact" }')
    assert store.count({"user_id": {"2"}}) == {"agent_memory": 4}


def test_missing_collection_is_reported_by_check(tmp_path):
    (tmp_path / "empty").mkdir()
    [problem] = chroma_store(tmp_path / "empty").check()
    assert "store 'memory', field 'collection': cannot open collection 'agent_memory'" in problem
