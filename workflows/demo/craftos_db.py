"""craftos.db: the product database of CraftBot Live (policy sections 2.1-2.3, 2.5, 3.2).

Ownership columns carry no FOREIGN KEY constraints on purpose: the data map, not the schema, says
which column makes a row someone's, and erasure must behave the same whether or not a connector
turns SQLite's foreign-key pragma on.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from pathlib import Path

from workflows.demo import named_rows
from workflows.demo.people import (
    ACCOUNT_HOLDERS,
    DEMO_NOW,
    FIRST_FILLER_ID,
    SALT_CRAFTOS,
    DemoPerson,
    days_ago,
    filler_people,
    iso,
    person_rng,
)
from workflows.demo.sqlite_batches import TableBatches, open_for_bulk_load

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL, region TEXT NOT NULL);
CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY, owner_user_id INTEGER, name TEXT, plan TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE workspace_members (
    workspace_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT NOT NULL,
    joined_at TEXT NOT NULL, PRIMARY KEY (workspace_id, user_id));
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY, opened_by_user_id INTEGER, subject TEXT, status TEXT NOT NULL,
    opened_at TEXT NOT NULL, closed_at TEXT);
CREATE TABLE ticket_participants (
    ticket_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (ticket_id, user_id));
CREATE TABLE ticket_messages (
    id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, author_user_id INTEGER,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'staff')), body TEXT,
    sent_at TEXT NOT NULL);
CREATE TABLE agent_task_logs (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, task_type TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, error_event TEXT);
CREATE TABLE oauth_connections (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL,
    scopes TEXT NOT NULL, connected_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT, started_at TEXT NOT NULL);
CREATE TABLE conversation_messages (
    id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), content TEXT NOT NULL,
    sent_at TEXT NOT NULL);
CREATE TABLE integration_activity_logs (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL,
    action TEXT NOT NULL, items INTEGER NOT NULL, occurred_at TEXT NOT NULL);
CREATE TABLE usage_analytics (
    id INTEGER PRIMARY KEY, user_id INTEGER, page TEXT NOT NULL, feature TEXT NOT NULL,
    session_seconds INTEGER NOT NULL, os TEXT, browser TEXT, city TEXT, ip_address TEXT,
    device_id TEXT, occurred_at TEXT NOT NULL);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, rating INTEGER NOT NULL, comment TEXT,
    sent_at TEXT NOT NULL);
CREATE TABLE instance_usage (
    user_id INTEGER NOT NULL, day TEXT NOT NULL, cpu_seconds INTEGER NOT NULL,
    bandwidth_bytes INTEGER NOT NULL, PRIMARY KEY (user_id, day));
CREATE TABLE marketing_preferences (
    user_id INTEGER PRIMARY KEY, newsletter INTEGER NOT NULL, product_updates INTEGER NOT NULL,
    marketing_cookies INTEGER NOT NULL, consent_source TEXT NOT NULL, updated_at TEXT NOT NULL);
"""

# Every owner column is indexed, as in any production schema: the benchmarks measure finding one
# person among millions of rows, not full scans.
INDEXES = """
CREATE INDEX workspaces_owner ON workspaces (owner_user_id);
CREATE INDEX workspace_members_user ON workspace_members (user_id);
CREATE INDEX support_tickets_opened_by ON support_tickets (opened_by_user_id);
CREATE INDEX ticket_participants_user ON ticket_participants (user_id);
CREATE INDEX ticket_messages_author ON ticket_messages (author_user_id);
CREATE INDEX agent_task_logs_user ON agent_task_logs (user_id);
CREATE INDEX oauth_connections_user ON oauth_connections (user_id);
CREATE INDEX conversations_user ON conversations (user_id);
CREATE INDEX conversation_messages_user ON conversation_messages (user_id);
CREATE INDEX integration_activity_logs_user ON integration_activity_logs (user_id);
CREATE INDEX usage_analytics_user ON usage_analytics (user_id);
CREATE INDEX feedback_user ON feedback (user_id);
"""

COLUMNS = {
    "users": ("id", "email", "name", "password_hash", "created_at", "region"),
    "workspaces": ("id", "owner_user_id", "name", "plan", "created_at"),
    "workspace_members": ("workspace_id", "user_id", "role", "joined_at"),
    "support_tickets": ("id", "opened_by_user_id", "subject", "status", "opened_at", "closed_at"),
    "ticket_participants": ("ticket_id", "user_id", "role"),
    "ticket_messages": ("id", "ticket_id", "author_user_id", "author_kind", "body", "sent_at"),
    "agent_task_logs": (
        "id", "user_id", "task_type", "started_at", "finished_at", "status", "error_event"),
    "oauth_connections": ("id", "user_id", "provider", "scopes", "connected_at", "revoked_at"),
    "conversations": ("id", "user_id", "title", "started_at"),
    "conversation_messages": ("id", "conversation_id", "user_id", "role", "content", "sent_at"),
    "integration_activity_logs": ("id", "user_id", "provider", "action", "items", "occurred_at"),
    "usage_analytics": (
        "id", "user_id", "page", "feature", "session_seconds", "os", "browser", "city",
        "ip_address", "device_id", "occurred_at"),
    "feedback": ("id", "user_id", "rating", "comment", "sent_at"),
    "instance_usage": ("user_id", "day", "cpu_seconds", "bandwidth_bytes"),
    "marketing_preferences": (
        "user_id", "newsletter", "product_updates", "marketing_cookies", "consent_source",
        "updated_at"),
}

TASK_TYPES = ("calendar.summarise", "email.triage", "email.draft_reply", "docs.search",
              "docs.translate", "slack.post_summary", "calendar.schedule")
ERROR_EVENTS = ("LLMProviderTimeout: no response after 60 s", "RateLimited: provider 429",
                "ToolError: file not found in workspace")
PROVIDER_SCOPES = {
    "google": ("calendar.readonly", "gmail.readonly", "drive.readonly", "contacts.readonly"),
    "microsoft": ("Calendars.Read", "Mail.Read", "Files.Read", "Tasks.ReadWrite"),
    "slack": ("channels:read", "chat:write", "users:read"),
}
PAGES = (("/dashboard", "agent.chat"), ("/workspaces", "workspace.files"),
         ("/integrations", "integrations.connect"), ("/billing", "billing.invoices"),
         ("/settings", "settings.notifications"), ("/support", "support.new_ticket"))
DEVICES = (("macOS 15", "Safari 19"), ("Windows 11", "Edge 140"), ("Ubuntu 26.04", "Firefox 140"),
           ("Android 16", "Chrome 140"), ("iOS 19", "Safari 19"))
CITIES = ("Berlin", "Madrid", "Osaka", "Austin", "Lisbon", "Toronto", "Tokyo", "Warsaw")
TOPICS = ("the quarterly report", "a team offsite", "the hiring plan", "a customer escalation",
          "the travel budget", "the release notes")


def password_hash(seed: int, email: str) -> str:
    """Looks like a stored hash; it is not the hash of any password anyone could log in with."""
    return "demo-sha256$" + hashlib.sha256(f"{seed}:{email}".encode()).hexdigest()


def write(path: Path, size: int, seed: int) -> dict[str, int]:
    """Create craftos.db at `path`; returns rows written per table."""
    connection = open_for_bulk_load(path, SCHEMA)
    try:
        batches = TableBatches(connection, COLUMNS)
        for person in ACCOUNT_HOLDERS:
            batches.add("users", _user_row(person, seed))
        for table, rows in named_rows.CRAFTOS.items():
            for row in rows:
                batches.add(table, row)
        ids = _IdCounter()
        for person in filler_people(size, seed):
            batches.add("users", _user_row(person, seed))
            _add_filler_rows(batches, ids, person, person_rng(seed, SALT_CRAFTOS, person.user_id))
        batches.finish(INDEXES)
        return batches.row_counts
    finally:
        connection.close()


def _user_row(person: DemoPerson, seed: int) -> tuple:
    return (person.user_id, person.email, person.name, password_hash(seed, person.email),
            person.created_at, person.region)


class _IdCounter:
    """Row ids for filler rows: named rows own 1-999, so filler ids start at 1000."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        value = self._next.get(table, FIRST_FILLER_ID)
        self._next[table] = value + 1
        return value


def _add_filler_rows(batches: TableBatches, ids: _IdCounter, person: DemoPerson,
                     rng: random.Random) -> None:
    uid = person.user_id
    # Filler workspace ids equal their owner's user id, so "the previous person's workspace"
    # is uid - 1: a cheap way to make shared workspaces without remembering anyone.
    batches.add("workspaces", (uid, uid, f"Workspace {uid}", rng.choice(("free", "pro", "team")),
                               person.created_at))
    batches.add("workspace_members", (uid, uid, "owner", person.created_at))
    neighbour = uid - 1 if uid > FIRST_FILLER_ID else None
    if neighbour and rng.random() < 0.2:
        batches.add("workspace_members", (neighbour, uid, "member", iso(days_ago(rng, 1, 30))))
    if rng.random() < 0.3:
        _add_ticket(batches, ids, uid, neighbour if rng.random() < 0.1 else None, rng)
    for _ in range(rng.randint(5, 30)):
        started = days_ago(rng, 0, 89)
        failed = rng.random() < 0.05
        batches.add("agent_task_logs", (
            ids("agent_task_logs"), uid, rng.choice(TASK_TYPES), iso(started),
            iso(started + timedelta(seconds=rng.randint(1, 120))), "error" if failed else "ok",
            rng.choice(ERROR_EVENTS) if failed else None))
    providers = rng.sample(sorted(PROVIDER_SCOPES), rng.randint(0, 3))
    for provider in providers:
        scopes = rng.sample(PROVIDER_SCOPES[provider], rng.randint(1, 2))
        batches.add("oauth_connections", (
            ids("oauth_connections"), uid, provider, " ".join(scopes),
            iso(days_ago(rng, 30, 400)), None))
    for _ in range(rng.randint(0, 30) if providers else 0):
        batches.add("integration_activity_logs", (
            ids("integration_activity_logs"), uid, rng.choice(providers), "sync",
            rng.randint(0, 60), iso(days_ago(rng, 0, 89))))
    for _ in range(rng.randint(0, 4)):
        _add_conversation(batches, ids, uid, rng)
    os_name, browser = rng.choice(DEVICES)
    city = rng.choice(CITIES)
    # Documentation-only addresses (RFC 5737): the demo's IP addresses reach no one.
    ip_address = f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"
    device_id = f"dev-{rng.getrandbits(64):016x}"
    for _ in range(rng.randint(5, 40)):
        page, feature = rng.choice(PAGES)
        batches.add("usage_analytics", (
            ids("usage_analytics"), uid, page, feature, rng.randint(10, 3600), os_name, browser,
            city, ip_address, device_id, iso(days_ago(rng, 0, 365))))
    batches.add("marketing_preferences", (
        uid, int(rng.random() < 0.4), int(rng.random() < 0.6), int(rng.random() < 0.2),
        "signup form", person.created_at))
    # Drawn last, so the rows above stay what they were before these tables existed.
    if rng.random() < 0.1:
        batches.add("feedback", (ids("feedback"), uid, rng.randint(1, 5),
                                 f"Feedback about {rng.choice(TOPICS)}.",
                                 iso(days_ago(rng, 0, 365))))
    for day in range(rng.randint(0, 7)):
        batches.add("instance_usage", (
            uid, (DEMO_NOW - timedelta(days=day + 1)).strftime("%Y-%m-%d"),
            rng.randint(60, 20_000), rng.randint(10**6, 5 * 10**9)))


def _add_ticket(batches: TableBatches, ids: _IdCounter, uid: int, cc: int | None,
                rng: random.Random) -> None:
    ticket = ids("support_tickets")
    opened = days_ago(rng, 1, 3 * 365)
    batches.add("support_tickets", (ticket, uid, f"Question about {rng.choice(TOPICS)}",
                                    "closed", iso(opened), iso(opened + timedelta(days=2))))
    batches.add("ticket_participants", (ticket, uid, "requester"))
    authors = [uid, None]
    if cc is not None:
        batches.add("ticket_participants", (ticket, cc, "cc"))
        authors.append(cc)
    for n in range(rng.randint(2, 4)):
        author = authors[n % len(authors)]
        body = (f"Reply from support about {rng.choice(TOPICS)}." if author is None
                else f"Customer {author} asks about {rng.choice(TOPICS)}.")
        batches.add("ticket_messages", (
            ids("ticket_messages"), ticket, author, "staff" if author is None else "customer",
            body, iso(opened + timedelta(hours=n * 5))))


def _add_conversation(batches: TableBatches, ids: _IdCounter, uid: int,
                      rng: random.Random) -> None:
    conversation = ids("conversations")
    started = days_ago(rng, 0, 365)
    topic = rng.choice(TOPICS)
    batches.add("conversations", (conversation, uid, f"Help with {topic}", iso(started)))
    for n in range(rng.randint(1, 5) * 2):
        role = "user" if n % 2 == 0 else "assistant"
        text = (f"Please help me with {topic}, step {n // 2 + 1}." if role == "user"
                else f"Here is what I found about {topic}: " + "details " * rng.randint(5, 40))
        batches.add("conversation_messages", (
            ids("conversation_messages"), conversation, uid, role, text,
            iso(started + timedelta(seconds=30 * n))))
