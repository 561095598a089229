"""Seeding the demo: every store, a valid data map, deterministic, idempotent, never half-done."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from tests.demo.conftest import dump_sqlite, load_map, rows_by_map
from workflows.datamap import load_datamap
from workflows.demo import agent_memory, seed, seeding
from workflows.demo.agent_memory import chroma_available

needs_chroma = pytest.mark.skipif(
    not chroma_available(), reason="chromadb (requirements-chroma.txt) not installed")

SQL_STORES = {"accounts", "workspaces", "support", "agent_activity", "oauth_connections",
              "token_vault", "integration_activity", "conversations", "analytics", "marketing",
              "billing", "instance_metrics"}
OTHER_STORES = {"payment_processor": "manual", "workspace_files": "files"}


def snapshot(demo: Path) -> dict:
    """Everything the demo holds, comparable across runs (paths made relative)."""
    files = {str(p.relative_to(demo / "files")): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((demo / "files").rglob("*")) if p.is_file()}
    datamap = (demo / "stores.toml").read_text().replace(str(demo), "<demo>")
    return {"craftos": dump_sqlite(demo / "craftos.db"),
            "billing": dump_sqlite(demo / "billing.db"),
            "vault": dump_sqlite(demo / "vault.db"),
            "files": files, "datamap": datamap, "memories": memories(demo)}


def memories(demo: Path) -> list | None:
    if not (demo / "chroma").exists():
        return None
    import chromadb

    client = chromadb.PersistentClient(path=str(demo / "chroma"))
    try:
        got = client.get_collection("agent_memory").get(include=["documents", "metadatas",
                                                                   "embeddings"])
    finally:
        client.close()
    return sorted(zip(got["ids"], got["documents"], [sorted(m.items()) for m in got["metadatas"]],
                      [list(e) for e in got["embeddings"]], strict=True))


def test_seed_creates_every_store_and_returns_its_data_map(seeded_demo):
    demo = seeded_demo.parent
    assert seeded_demo == demo / "stores.toml"
    assert all((demo / db).is_file() for db in ("craftos.db", "billing.db", "vault.db"))
    assert len([p for p in (demo / "files").iterdir() if p.is_dir()]) > 250
    kinds = {s["name"]: s["kind"] for s in load_map(seeded_demo)["stores"]}
    expected = dict.fromkeys(SQL_STORES, "sql") | OTHER_STORES
    if chroma_available():
        expected["agent_memory"] = "chroma"
        assert (demo / "chroma" / "chroma.sqlite3").is_file()
    assert kinds == expected


def test_data_map_loads_with_the_portal_loader_and_states_art_15_facts(seeded_demo):
    datamap = load_datamap(seeded_demo)
    for store in datamap.stores:
        assert store.purpose and store.categories and store.retention, store.name
        assert store.recipients and store.source, store.name
    billing = datamap.store("billing")
    retained = {t.table for t in billing.tables if t.on_erase == "retain"}
    assert retained == {"billing_customers", "invoices"}
    assert datamap.store("accounts").tables[0].exclude == ("password_hash",)
    files = datamap.store("workspace_files")
    assert Path(files.root).is_absolute() and files.path == "{user_id}"
    for store in datamap.stores:
        if store.url:
            assert store.url.startswith("sqlite:////"), "paths must not depend on the cwd"


def test_billing_kept_7_years_says_from_when_they_run(seeded_demo):
    """Policy section 5 keeps billing 7 years "with notice to you": a notice with no start date
    gives no period (Art. 15(1)(d)). The statement and the certificate's reasons name it."""
    billing = load_datamap(seeded_demo).store("billing")
    reasons = {t.table: t.retain_reason for t in billing.tables if t.on_erase == "retain"}
    assert reasons == {
        "invoices": "Tax law: each invoice is kept 7 years from its date, then deleted "
                    "(policy section 5)",
        "billing_customers": "Tax law: the billing details on your invoices are kept until 7 "
                             "years after your latest invoice, then deleted (policy section 5)"}
    assert billing.retention.startswith("7 years from the date of each invoice, then deleted;")


def test_every_store_in_the_data_map_cites_the_policy(seeded_demo):
    lines = seeded_demo.read_text().splitlines()
    heads = [i for i, line in enumerate(lines) if line == "[[stores]]"]
    assert len(heads) == len(load_map(seeded_demo)["stores"])
    for head in heads:
        comment = []
        for line in reversed(lines[:head]):
            if not line.startswith("#"):
                break
            comment.append(line)
        assert any("section" in line.lower() for line in comment), lines[head + 1]


@needs_chroma
def test_agent_memory_is_left_out_when_chromadb_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(agent_memory, "chroma_available", lambda: False)
    datamap = seed(tmp_path / "demo", size=0)
    assert "agent_memory" not in {s.name for s in load_datamap(datamap).stores}
    assert not (tmp_path / "demo" / "chroma").exists()


def test_same_seed_gives_the_same_demo(seeded_demo, tmp_path):
    again = seed(tmp_path / "demo", size=1, seed=42)
    assert snapshot(again.parent) == snapshot(seeded_demo.parent)


def test_another_seed_gives_other_filler_but_the_same_named_people(seeded_demo, tmp_path):
    other = seed(tmp_path / "demo", size=1, seed=7)
    assert snapshot(other.parent)["craftos"] != snapshot(seeded_demo.parent)["craftos"]
    for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
        assert rows_by_map(other, email) == rows_by_map(seeded_demo, email)


def test_reseeding_replaces_the_demo_cleanly(tmp_path):
    target = tmp_path / "demo"
    seed(target, size=1)
    seed(target, size=0)
    assert sorted(p.name for p in (target / "files").iterdir()) == ["1", "2", "3"]
    with sqlite3.connect(target / "craftos.db") as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (3,)
    first = snapshot(target)
    seed(target, size=0)
    assert snapshot(target) == first
    # Only the demo and its lock file remain: no staging or old folder is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.seed.lock", "demo"]


def test_a_failed_seed_leaves_the_previous_demo_untouched(tmp_path, monkeypatch):
    target = tmp_path / "demo"
    seed(target, size=0)
    before = snapshot(target)

    def billing_crashes(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(seeding.billing_db, "write", billing_crashes)
    with pytest.raises(RuntimeError, match="disk full"):
        seed(target, size=1)
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.seed.lock", "demo"]


def test_seed_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "instance"
    precious.mkdir()
    (precious / "portal.db").write_text("not demo data")
    with pytest.raises(FileExistsError):
        seed(precious, size=0)
    assert (precious / "portal.db").read_text() == "not demo data"


def test_size_one_seeds_quickly(tmp_path):
    started = time.monotonic()
    seed(tmp_path / "demo", size=1)
    # The brief asks for ~5 s; the bound is loose so a busy CI machine does not flake.
    assert time.monotonic() - started < 15


def test_negative_size_is_refused(tmp_path):
    with pytest.raises(ValueError):
        seed(tmp_path / "demo", size=-1)
