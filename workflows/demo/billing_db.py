"""billing.db: a separate database, like a real billing system (policy sections 2.1 and 5).

It is keyed by user_id, which only the accounts store can resolve from an email: the demo shows
identities flowing across stores. billing_customers also holds the email, so former customers
(whose account is gone but whose invoices are kept 7 years for tax) are still found.

Cards: only brand, last four digits and expiry. The full number lives with the PCI-DSS processor
(the `payment_processor` manual store); the CHECK constraint makes storing more impossible.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from workflows.demo import named_rows
from workflows.demo.people import (
    DEMO_NOW,
    FIRST_FILLER_ID,
    FIRST_FORMER_CUSTOMER_ID,
    LAST_NAMES,
    SALT_BILLING,
    DemoPerson,
    filler_people,
    iso,
    person_rng,
)
from workflows.demo.sqlite_batches import TableBatches, open_for_bulk_load

SCHEMA = """
CREATE TABLE billing_customers (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,
    country TEXT NOT NULL, vat_number TEXT, processor_customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, brand TEXT NOT NULL,
    last4 TEXT NOT NULL CHECK (length(last4) = 4 AND last4 NOT GLOB '*[^0-9]*'),
    exp_month INTEGER NOT NULL, exp_year INTEGER NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, number TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL, amount_cents INTEGER NOT NULL, currency TEXT NOT NULL,
    plan TEXT NOT NULL, payment_method_id INTEGER, status TEXT NOT NULL);
"""

INDEXES = """
CREATE INDEX billing_customers_email ON billing_customers (email);
CREATE INDEX billing_customers_user ON billing_customers (user_id);
CREATE INDEX payment_methods_user ON payment_methods (user_id);
CREATE INDEX invoices_user ON invoices (user_id);
"""

COLUMNS = {
    "billing_customers": ("id", "user_id", "email", "name", "country", "vat_number",
                          "processor_customer_id", "created_at"),
    "payment_methods": ("id", "user_id", "brand", "last4", "exp_month", "exp_year", "added_at"),
    "invoices": ("id", "user_id", "number", "issued_at", "amount_cents", "currency", "plan",
                 "payment_method_id", "status"),
}

PLANS = (("pro", 1900), ("team", 4800))
COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "US", "JP", "CA")
BRANDS = ("visa", "mastercard", "amex")
# Share of filler account holders who pay, and how many former customers exist per filler.
PAYING_SHARE = 0.4
FORMER_CUSTOMER_SHARE = 0.02


def write(path: Path, size: int, seed: int) -> dict[str, int]:
    """Create billing.db at `path`; returns rows written per table."""
    connection = open_for_bulk_load(path, SCHEMA)
    try:
        batches = TableBatches(connection, COLUMNS)
        for table, rows in named_rows.BILLING.items():
            for row in rows:
                batches.add(table, row)
        # One counter for every table: ids only need to be unique per table, and one is simpler.
        next_id = itertools.count(FIRST_FILLER_ID).__next__
        for person in filler_people(size, seed):
            rng = person_rng(seed, SALT_BILLING, person.user_id)
            if rng.random() < PAYING_SHARE:
                _add_customer(batches, next_id, person, rng, former=False)
            if rng.random() < FORMER_CUSTOMER_SHARE:
                former = DemoPerson(
                    user_id=FIRST_FORMER_CUSTOMER_ID + person.user_id,
                    email=f"former.{person.user_id}@example.org",
                    name=f"Former Customer {rng.choice(LAST_NAMES)}",
                    region="eu", created_at=iso(DEMO_NOW - timedelta(days=rng.randint(900, 2400))))
                _add_customer(batches, next_id, former, rng, former=True)
        batches.finish(INDEXES)
        return batches.row_counts
    finally:
        connection.close()


def _add_customer(batches: TableBatches, next_id: Callable[[], int], person: DemoPerson,
                  rng: random.Random, former: bool) -> None:
    customer = next_id()
    batches.add("billing_customers", (
        customer, person.user_id, person.email, person.name, rng.choice(COUNTRIES), None,
        f"cus_demo_{customer}", person.created_at))
    # A former customer's card was deleted with the account; only the invoices remain.
    card = None
    if not former:
        card = next_id()
        batches.add("payment_methods", (
            card, person.user_id, rng.choice(BRANDS), f"{rng.randint(0, 9999):04d}",
            rng.randint(1, 12), rng.randint(2026, 2031), person.created_at))
    plan, amount = rng.choice(PLANS)
    issued = DEMO_NOW.replace(day=1, hour=0, minute=0, second=0)
    months = rng.randint(1, 12)
    if former:
        issued -= timedelta(days=rng.randint(400, 2000))
    for _ in range(months):
        issued = (issued - timedelta(days=1)).replace(day=1)
        invoice = next_id()
        batches.add("invoices", (
            invoice, person.user_id, f"CR-{issued.year}-{invoice:06d}", iso(issued), amount,
            "EUR", plan, card, "paid"))
