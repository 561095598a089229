"""Who lives in the demo: a few named people with hand-written data, plus size-scaled filler.

The named people are the ones docs/DEMO.md describes and the tests pin down, so their rows are
literal (see named_rows.py). Filler people are generated from a per-person random stream, so a
person's data does not depend on how many others were generated before them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# A fixed "today" keeps the demo deterministic: the same seed gives byte-identical rows whatever
# the day it runs. Timestamps sit inside each category's retention window relative to this date.
DEMO_NOW = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)

# Filler people per unit of --size; docs/DEMO.md gives the rows and bytes this yields.
FILLERS_PER_SIZE = 250
FIRST_FILLER_ID = 1000
# Former customers exist only in billing (their account was deleted, invoices are kept for tax):
# their old user ids live in a range no current user can reach.
FIRST_FORMER_CUSTOMER_ID = 100_000_000

# Salts keep each store's random stream independent, so adding a column to one store does not
# reshuffle the data of another.
SALT_CRAFTOS, SALT_BILLING, SALT_FILES, SALT_MEMORY, SALT_PEOPLE = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class DemoPerson:
    user_id: int
    email: str
    name: str
    region: str
    created_at: str


ALICE = DemoPerson(1, "alice@example.com", "Alice Archer", "eu", "2025-01-14T10:02:00Z")
BOB = DemoPerson(2, "bob@example.com", "Bob Baker", "california", "2025-03-02T16:40:00Z")
KENJI = DemoPerson(3, "kenji@example.com", "Kenji Sato", "japan", "2025-11-20T01:15:00Z")
# Carol closed her account in 2024; only billing (kept 7 years for tax) still knows her.
CAROL = DemoPerson(
    FIRST_FORMER_CUSTOMER_ID - 1, "carol@example.com", "Carol Chen", "eu", "2023-02-10T08:00:00Z"
)
# Dave never used CraftOS: a request from him must find nothing anywhere.
DAVE_EMAIL = "dave@example.com"

ACCOUNT_HOLDERS = (ALICE, BOB, KENJI)

FIRST_NAMES = (
    "Ada", "Ben", "Chiara", "Diego", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Keiko", "Liam", "Mei", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tara",
)
LAST_NAMES = (
    "Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hayashi", "Ivanova",
    "Jansen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt",
)
REGIONS = ("eu", "eu", "eu", "california", "us_other", "japan", "other")


def person_rng(seed: int, salt: int, user_id: int) -> random.Random:
    """A random stream for one person in one store, stable across sizes and Python runs.

    Integers only: str hashing is salted per process, which would break determinism.
    """
    return random.Random((seed << 44) ^ (salt << 40) ^ user_id)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(rng: random.Random, low: float, high: float) -> datetime:
    """A moment between `low` and `high` days before DEMO_NOW, to the second."""
    return DEMO_NOW - timedelta(seconds=rng.randint(int(low * 86400), int(high * 86400)))


def filler_count(size: int) -> int:
    return FILLERS_PER_SIZE * size


def filler_people(size: int, seed: int) -> Iterator[DemoPerson]:
    """Filler account holders, generated one at a time (never a list of millions)."""
    for user_id in range(FIRST_FILLER_ID, FIRST_FILLER_ID + filler_count(size)):
        rng = person_rng(seed, SALT_PEOPLE, user_id)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # example.net, not example.com: filler can never collide with a named person's email.
        yield DemoPerson(
            user_id=user_id,
            email=f"{first.lower()}.{last.lower()}.{user_id}@example.net",
            name=f"{first} {last}",
            region=rng.choice(REGIONS),
            created_at=iso(days_ago(rng, 30, 900)),
        )
