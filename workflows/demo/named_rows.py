"""The named demo people's data, written out by hand so docs/DEMO.md and the tests can cite it.

Ids below 1000 belong to named people's rows; filler rows start at 1000 (see people.py).
The shared rows are the point of the demo: ticket 1 has Alice and Bob as participants, and
workspace 1 is Alice's with Bob as a member, so erasing one of them must leave the other's part.
"""

from __future__ import annotations

from workflows.demo.people import ALICE, BOB, CAROL, KENJI

A, B, K = ALICE.user_id, BOB.user_id, KENJI.user_id

ALICE_LAPTOP = ("macOS 15", "Firefox 140", "Paris", "203.0.113.24", "dev-a1c3e5f7a9b1c3e5")
ALICE_PHONE = ("iOS 19", "Safari 19", "Lyon", "198.51.100.7", "dev-b2d4f6a8c0e2b4d6")
BOB_PC = ("Windows 11", "Edge 140", "San Jose", "192.0.2.41", "dev-c3e5a7b9d1f3c5e7")
BOB_PHONE = ("Android 16", "Chrome 140", "San Jose", "192.0.2.77", "dev-d4f6b8a0c2e4d6f8")
KENJI_PC = ("Ubuntu 26.04", "Chrome 140", "Osaka", "2001:db8:3::15", "dev-e5a7c9b1d3f5e7a9")

CRAFTOS = {
    "workspaces": [
        (1, A, "Launch plan", "team", "2025-02-01T09:00:00Z"),
        (2, A, "Research notes", "team", "2025-04-11T12:30:00Z"),
        (3, B, "Sandbox", "free", "2025-03-02T16:45:00Z"),
        (4, K, "Kenji workspace", "free", "2025-11-20T01:20:00Z"),
    ],
    "workspace_members": [
        (1, A, "owner", "2025-02-01T09:00:00Z"),
        (1, B, "member", "2025-03-05T10:00:00Z"),
        (2, A, "owner", "2025-04-11T12:30:00Z"),
        (3, B, "owner", "2025-03-02T16:45:00Z"),
        (4, K, "owner", "2025-11-20T01:20:00Z"),
    ],
    "support_tickets": [
        (1, A, "Agent cannot read the Launch plan calendar", "closed",
         "2026-04-03T08:12:00Z", "2026-04-05T17:00:00Z"),
        (2, A, "Please update the address on my invoices", "closed",
         "2025-09-18T14:00:00Z", "2025-09-19T09:30:00Z"),
        (3, B, "How do I export my conversation history?", "open",
         "2026-05-28T19:05:00Z", None),
    ],
    "ticket_participants": [
        (1, A, "requester"),
        (1, B, "cc"),
        (2, A, "requester"),
        (3, B, "requester"),
    ],
    "ticket_messages": [
        (1, 1, A, "customer", ("Since this morning the agent says it has no access to the "
         "Launch plan calendar. Bob is copied, he set up the Google connection."),
         "2026-04-03T08:12:00Z"),
        (2, 1, None, "staff", ("Thanks Alice. Could Bob reconnect Google from Settings > "
         "Integrations? The calendar scope was revoked on Google's side."),
         "2026-04-03T11:40:00Z"),
        (3, 1, B, "customer", "Reconnected just now, the agent sees the calendar again.",
         "2026-04-05T16:20:00Z"),
        (4, 1, None, "staff", "Great, closing this ticket.", "2026-04-05T17:00:00Z"),
        (5, 2, A, "customer", ("Our office moved to 1 Rue de l'Exemple, Paris. Please use it on "
         "future invoices."), "2025-09-18T14:00:00Z"),
        (6, 2, None, "staff", "Done, the next invoice will carry the new address.",
         "2025-09-19T09:30:00Z"),
        (7, 3, B, "customer", "I would like a copy of all my conversations with the agent.",
         "2026-05-28T19:05:00Z"),
    ],
    "agent_task_logs": [
        (1, A, "calendar.summarise", "2026-05-30T07:00:00Z", "2026-05-30T07:00:41Z", "ok", None),
        (2, A, "email.draft_reply", "2026-05-29T15:10:00Z", "2026-05-29T15:10:12Z", "ok", None),
        # The morning of ticket 1: inside the 90 days this log is kept, like every task log.
        (3, A, "calendar.summarise", "2026-04-03T07:00:00Z", "2026-04-03T07:00:03Z", "error",
         "GoogleCalendarPermissionDenied: scope calendar.readonly revoked"),
        (4, A, "docs.search", "2026-04-21T10:00:00Z", "2026-04-21T10:00:09Z", "ok", None),
        (5, A, "slack.post_summary", "2026-05-15T17:30:00Z", "2026-05-15T17:30:05Z", "ok", None),
        (6, B, "email.triage", "2026-05-31T06:00:00Z", "2026-05-31T06:01:10Z", "ok", None),
        (7, B, "email.triage", "2026-05-24T06:00:00Z", "2026-05-24T06:00:02Z", "error",
         "LLMProviderTimeout: no response after 60 s"),
        (8, B, "calendar.schedule", "2026-05-20T13:00:00Z", "2026-05-20T13:00:20Z", "ok", None),
        (9, K, "docs.translate", "2026-05-10T03:00:00Z", "2026-05-10T03:00:30Z", "ok", None),
    ],
    # Provider and scopes only: the tokens are sealed in vault.db (token_vault.py), never next
    # to personal data, and a revoked connection has none.
    "oauth_connections": [
        (1, A, "google", "calendar.readonly gmail.readonly", "2025-02-01T09:05:00Z", None),
        (2, A, "slack", "channels:read chat:write", "2025-05-02T08:00:00Z", None),
        (3, B, "microsoft", "Calendars.Read Mail.Read", "2025-03-03T09:00:00Z", None),
        # Revoked 22 days before DEMO_NOW: the record stays with Kenji's account and shows when;
        # the token went from the vault when he revoked it.
        (4, K, "google", "drive.readonly", "2025-11-20T01:30:00Z", "2026-05-10T04:00:00Z"),
    ],
    "conversations": [
        (1, A, "Plan the product launch", "2026-05-12T08:00:00Z"),
        (2, A, "Summarise customer interviews", "2026-05-26T13:00:00Z"),
        (3, B, "Inbox zero", "2026-05-31T06:05:00Z"),
        (4, K, "Translate the onboarding guide", "2026-05-10T02:55:00Z"),
    ],
    "conversation_messages": [
        (1, 1, A, "user", "List the open tasks for the launch on 15 June.", "2026-05-12T08:00:00Z"),
        (2, 1, A, "assistant", ("There are 4 open tasks: press kit, pricing page, demo video, "
         "partner emails."), "2026-05-12T08:00:06Z"),
        (3, 1, A, "user", "Draft the partner email.", "2026-05-12T08:01:00Z"),
        (4, 1, A, "assistant", "Here is a draft for the partner email...", "2026-05-12T08:01:09Z"),
        (5, 2, A, "user", "Summarise the five interviews in the Research notes workspace.",
         "2026-05-26T13:00:00Z"),
        (6, 2, A, "assistant", "Three themes came up: onboarding, pricing, integrations.",
         "2026-05-26T13:00:14Z"),
        (7, 2, A, "user", "Which customers asked for Slack?", "2026-05-26T13:02:00Z"),
        (8, 2, A, "assistant", "Two of the five interviewees mentioned Slack.",
         "2026-05-26T13:02:05Z"),
        (9, 3, B, "user", "Archive every newsletter older than a week.", "2026-05-31T06:05:00Z"),
        (10, 3, B, "assistant", "Archived 37 newsletters.", "2026-05-31T06:05:30Z"),
        (11, 4, K, "user", "Translate the onboarding guide into Japanese.", "2026-05-10T02:55:00Z"),
        (12, 4, K, "assistant", "The translation is saved as onboarding-ja.md.",
         "2026-05-10T03:00:30Z"),
    ],
    "integration_activity_logs": [
        (1, A, "google", "calendar.events.list", 14, "2026-05-30T07:00:10Z"),
        (2, A, "google", "gmail.messages.get", 3, "2026-05-29T15:10:04Z"),
        (3, A, "slack", "chat.postMessage", 1, "2026-05-15T17:30:03Z"),
        (4, A, "google", "calendar.events.list", 0, "2026-03-10T07:00:02Z"),
        (5, B, "microsoft", "mail.messages.list", 52, "2026-05-31T06:00:20Z"),
        (6, B, "microsoft", "calendar.events.create", 1, "2026-05-20T13:00:15Z"),
    ],
    # Each device: (os, browser, city, IP address, device id). The addresses are from the
    # ranges reserved for documentation (RFC 5737, RFC 3849): they reach no one.
    "usage_analytics": [
        (1, A, "/dashboard", "agent.chat", 1260, *ALICE_LAPTOP, "2026-05-26T13:00:00Z"),
        (2, A, "/integrations", "integrations.connect", 180, *ALICE_LAPTOP, "2026-05-02T08:00:00Z"),
        (3, A, "/workspaces/1", "workspace.files", 640, *ALICE_LAPTOP, "2026-05-12T08:00:00Z"),
        (4, A, "/billing", "billing.invoices", 95, *ALICE_PHONE, "2026-04-01T18:00:00Z"),
        (5, A, "/dashboard", "agent.chat", 2040, *ALICE_LAPTOP, "2026-05-30T07:05:00Z"),
        (6, A, "/settings", "settings.notifications", 60, *ALICE_LAPTOP, "2026-03-15T09:00:00Z"),
        (7, B, "/dashboard", "agent.chat", 900, *BOB_PC, "2026-05-31T06:05:00Z"),
        (8, B, "/workspaces/3", "workspace.files", 300, *BOB_PC, "2026-05-20T13:00:00Z"),
        (9, B, "/support", "support.new_ticket", 240, *BOB_PHONE, "2026-05-28T19:00:00Z"),
        (10, K, "/dashboard", "agent.chat", 420, *KENJI_PC, "2026-05-10T02:55:00Z"),
    ],
    # In-product feedback (section 2.1: "messages, feedback, support requests").
    "feedback": [
        (1, A, 5, "The morning calendar summary saves me ten minutes a day.",
         "2026-05-30T07:10:00Z"),
    ],
    # Operational metadata of each CraftBot Live instance, per day (section 2.5).
    "instance_usage": [
        (A, "2026-05-29", 1820, 412_000_000),
        (A, "2026-05-30", 2410, 530_000_000),
        (A, "2026-05-31", 960, 120_000_000),
        (B, "2026-05-30", 640, 95_000_000),
        (B, "2026-05-31", 1210, 310_000_000),
        (K, "2026-05-10", 300, 8_000_000),
    ],
    "marketing_preferences": [
        (A, 1, 1, 0, "signup form", "2025-01-14T10:02:00Z"),
        (B, 0, 0, 0, "signup form", "2025-03-02T16:40:00Z"),
        # Kenji opted in, then withdrew: the withdrawal is what the row now records.
        (K, 0, 1, 0, "email unsubscribe link", "2026-04-02T11:00:00Z"),
    ],
}

BILLING = {
    "billing_customers": [
        (1, A, ALICE.email, "Alice Archer", "FR", "FR00123456789", "cus_demo_alice",
         "2025-02-01T09:00:00Z"),
        (2, B, BOB.email, "Bob Baker", "US", None, "cus_demo_bob", "2025-06-01T12:00:00Z"),
        (3, CAROL.user_id, CAROL.email, "Carol Chen", "DE", None, "cus_demo_carol",
         "2023-02-10T08:00:00Z"),
    ],
    "payment_methods": [
        (1, A, "visa", "4242", 8, 2028, "2025-02-01T09:00:00Z"),
    ],
    # Bob's invoice 5 was paid with Alice's card (she bought him a seat): payment_method_id points
    # at a row Bob does not own, so his archive must not contain Alice's payment method.
    "invoices": [
        (1, A, "CR-2026-000101", "2026-03-01T00:00:00Z", 4800, "EUR", "team", 1, "paid"),
        (2, A, "CR-2026-000245", "2026-04-01T00:00:00Z", 4800, "EUR", "team", 1, "paid"),
        (3, A, "CR-2026-000388", "2026-05-01T00:00:00Z", 4800, "EUR", "team", 1, "paid"),
        (4, CAROL.user_id, "CR-2023-004410", "2023-03-01T00:00:00Z", 1900, "EUR", "pro", None,
         "paid"),
        (5, B, "CR-2026-000402", "2026-05-02T00:00:00Z", 1200, "USD", "seat", 1, "paid"),
        (6, CAROL.user_id, "CR-2023-005120", "2023-04-01T00:00:00Z", 1900, "EUR", "pro", None,
         "paid"),
        (7, CAROL.user_id, "CR-2024-000090", "2024-01-01T00:00:00Z", 1900, "EUR", "pro", None,
         "refunded"),
    ],
}

# Agent memory (ChromaDB): (id, user_id, text).
MEMORIES = [
    ("mem-1-1", A, "Alice prefers meetings after 10:00 Paris time."),
    ("mem-1-2", A, "The launch date for the Launch plan workspace is 15 June."),
    ("mem-1-3", A, "Alice signs emails as 'A.' when writing to partners."),
    ("mem-2-1", B, "Bob wants newsletters archived after one week."),
    ("mem-2-2", B, "Bob's calendar is in Pacific time."),
    ("mem-3-1", K, "Kenji reads documents in Japanese first."),
]

# Workspace files: (user_id, relative path, kind, bytes). "text"/"json" are generated content,
# "binary" is a deterministic blob of that many bytes.
FILES = [
    (A, "notes/launch-checklist.md", "text", 1200),
    (A, "agent-config.json", "json", 0),
    (A, "uploads/architecture-diagram.bin", "binary", 24_576),
    (B, "notes/inbox-rules.md", "text", 600),
    (B, "agent-config.json", "json", 0),
    (K, "documents/onboarding-ja.md", "text", 2048),
]
