"""Every category of data the policy says CraftOS collects is stated in the data map, next to the
data itself; and what the map states but never exports says so.

An Art. 15 answer silent about IP addresses that the published policy names (section 2.2) is
incomplete; one that lists the password hash without saying it is withheld is not honest.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.demo.conftest import erase_everywhere, load_map, sqlite_path

ALICE = "alice@example.com"

# (policy section, store, category as stated, table, column holding it for the person)
POLICY_CATEGORIES = [
    ("2.2", "analytics", "IP address", "usage_analytics", "ip_address"),
    ("2.2", "analytics", "Device identifiers", "usage_analytics", "device_id"),
    ("2.2", "analytics", "Operating system and browser", "usage_analytics", "browser"),
    ("2.2", "analytics", "City-level location", "usage_analytics", "city"),
    ("2.1", "support", "Feedback you sent us (rating and comment)", "feedback", "comment"),
    ("2.5", "instance_metrics", "CPU time used by your instance, per day", "instance_usage",
     "cpu_seconds"),
    ("2.5", "instance_metrics", "Network bandwidth used by your instance, per day",
     "instance_usage", "bandwidth_bytes"),
]


def store_named(datamap_path, name: str) -> dict:
    return next(s for s in load_map(datamap_path)["stores"] if s["name"] == name)


@pytest.mark.parametrize(("section", "store", "category", "table", "column"), POLICY_CATEGORIES)
def test_each_category_the_policy_names_is_stated_and_held_for_alice(
        seeded_demo, section, store, category, table, column):
    config = store_named(seeded_demo, store)
    assert category in config["categories"], f"policy section {section}: {category}"
    with sqlite3.connect(sqlite_path(config["url"])) as db:
        # Names come from the table above, never from input.
        values = db.execute(f"SELECT {column} FROM {table} WHERE user_id = 1").fetchall()  # noqa: S608
    assert values and all(value is not None for (value,) in values), (table, column)


def test_excluded_password_hash_is_stated_as_withheld(seeded_demo):
    accounts = store_named(seeded_demo, "accounts")
    assert accounts["tables"][0]["exclude"] == ["password_hash"]
    (stated,) = [c for c in accounts["categories"] if "password" in c.lower()]
    assert "withheld from your archive" in stated


def test_erasing_alice_leaves_no_ip_address_or_device_id_in_the_analytics_kept(small_demo):
    erase_everywhere(small_demo, ALICE)
    analytics = small_demo.store("analytics")
    with sqlite3.connect(analytics.url.removeprefix("sqlite:///")) as db:
        left = db.execute("SELECT user_id, city, ip_address, device_id FROM usage_analytics "
                          "WHERE id BETWEEN 1 AND 6").fetchall()
    assert left == [(None, None, None, None)] * 6
