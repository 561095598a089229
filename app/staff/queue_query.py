"""The triage queue as one indexed query: filters, search, and keyset pagination on (due_at, id).

Keyset rather than OFFSET: page 2,000 costs what page 1 costs, because the database seeks into
ix_data_requests_due_id instead of counting past every earlier row.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, tuple_, union_all

from ..extensions import db
from ..models import MAX_ROW_ID, OPEN_STATES, REGIMES, REQUEST_TYPES, STATES, DataRequest
from ..tokens import email_hash

# ASCII digits only: int() also reads "٣", "+3", " 3" and "3_0", and takes huge strings.
DIGITS = re.compile(r"[0-9]{1,10}")
REFERENCE = re.compile(r"^DSR-?[0-9A-Z]{4}-?[0-9A-Z]{4}$")
MAX_DUE_DAYS = 366
COLUMNS = (DataRequest.id, DataRequest.reference, DataRequest.request_type, DataRequest.state,
           DataRequest.regime, DataRequest.due_at, DataRequest.closed_at,
           DataRequest.assignee_id, DataRequest.original_due_at)


@dataclass
class QueueFilters:
    # "" is the default: open requests, but a search looks in every state (the person quotes
    # the reference of a closed request too). "open" is the agent's explicit choice.
    state: str = ""
    request_type: str = ""
    regime: str = ""
    assignee: str = ""      # "", "me", "unassigned" or a staff id
    due: str = ""           # "", "overdue" or a number of days
    q: str = ""
    order: str = "due"      # "due" (soonest first) or "-due"
    after: str = ""         # cursor: "<due_at iso>_<id>" of the last row shown

    @classmethod
    def from_args(cls, args):
        """Read the query string; anything unknown falls back to the default, never a 500."""
        pick = {
            "state": args.get("state", "") if args.get("state") in (
                "open", "all", *STATES) else "",
            "request_type": args.get("type", "") if args.get("type") in REQUEST_TYPES else "",
            "regime": args.get("regime", "") if args.get("regime") in REGIMES else "",
            "assignee": args.get("assignee", "") if (args.get("assignee") in ("me", "unassigned")
                                                     or row_id(args.get("assignee", "")))
            else "",
            "due": args.get("due", "") if (args.get("due") == "overdue" or (
                DIGITS.fullmatch(args.get("due", "")) and 0 < int(args["due"]) <= MAX_DUE_DAYS))
            else "",
            "q": args.get("q", "").strip()[:254],
            "order": "-due" if args.get("order") == "-due" else "due",
            "after": args.get("after", "")[:80],
        }
        return cls(**pick)

    def args(self, **changes):
        """Query-string values for links (next page, clear a filter)."""
        values = {"state": self.state, "type": self.request_type, "regime": self.regime,
                  "assignee": self.assignee, "due": self.due, "q": self.q, "order": self.order,
                  "after": self.after}
        values.update(changes)
        return {k: v for k, v in values.items() if v and not (k == "order" and v == "due")}

    @property
    def scope(self):
        """The states actually listed: "open", "all" or one state."""
        return self.state or ("all" if self.q else "open")


def row_id(text):
    """The id `text` names when a row can have it (1 to MAX_ROW_ID in ASCII digits), else None."""
    if not DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None


def parse_cursor(raw):
    """(due_at in UTC, id) from "<due_at iso>_<id>", or None for anything else.

    The id must be a number the column can hold (a 20-digit one reached the database and gave
    a 500); a time without a zone is read as UTC, the zone of the column.
    """
    due, _, ident = raw.rpartition("_")
    if row_id(ident) is None:
        return None
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc), row_id(ident)


def make_cursor(row):
    return f"{row.due_at.isoformat()}_{row.id}"


def conditions(filters, staff_id, now):
    """Every filter but state and search, which choose the branches (see `branches`)."""
    where = []
    if filters.request_type:
        where.append(DataRequest.request_type == filters.request_type)
    if filters.regime:
        where.append(DataRequest.regime == filters.regime)
    if filters.assignee == "me":
        where.append(DataRequest.assignee_id == staff_id)
    elif filters.assignee == "unassigned":
        where.append(DataRequest.assignee_id.is_(None))
    elif filters.assignee:
        where.append(DataRequest.assignee_id == int(filters.assignee))
    if filters.due == "overdue":
        where.append(DataRequest.due_at < now)
    elif filters.due:
        where.append(DataRequest.due_at <= now + timedelta(days=int(filters.due)))
    return where


def branches(filters, secret_key):
    """One condition per branch of the query, each of which an index walks in due order.

    `state IN (four open states)` ordered by due date would make the database either sort
    every open row or walk ix_data_requests_due_id through years of closed history; one branch
    per state walks ix_data_requests_state_due and stops at a page. An email is searched in
    the open states (closed requests may no longer hold it) and, through its keyed hash, in
    minimised ones (ix on email_hash).
    """
    states = (OPEN_STATES if filters.scope == "open" else () if filters.scope == "all"
              else (filters.scope,))
    by_state = [DataRequest.state == state for state in states] or [None]
    text = filters.q
    if not text:
        return by_state
    if REFERENCE.match(text.upper()):
        compact = text.upper().replace("-", "")[3:]
        reference = DataRequest.reference == f"DSR-{compact[:4]}-{compact[4:]}"
        return [reference if c is None else and_(c, reference) for c in by_state]
    email = text.lower()
    open_states = [s for s in (states or OPEN_STATES) if s in OPEN_STATES]
    found = [and_(DataRequest.state == s, DataRequest.email == email) for s in open_states]
    # Hashes made before a key rotation were made with a fallback key.
    keys = [secret_key] if isinstance(secret_key, str) else secret_key
    hashed = DataRequest.email_hash.in_([email_hash(email, key) for key in keys])
    found += [hashed if c is None else and_(c, hashed) for c in by_state]
    return found


def queue_page(filters, staff_id, now, secret_key, size):
    """One page of rows (plain tuples, not ORM objects) and the cursor of the next page."""
    # Intake always sets due_at; a row without one could not be placed in the order.
    where = [DataRequest.due_at.is_not(None), *conditions(filters, staff_id, now)]
    key = tuple_(DataRequest.due_at, DataRequest.id)
    cursor = parse_cursor(filters.after) if filters.after else None
    descending = filters.order == "-due"
    if cursor is not None:
        # Bound with the columns' own types: the time is stored as naive UTC.
        after = tuple_(db.literal(cursor[0], DataRequest.due_at.type),
                       db.literal(cursor[1], DataRequest.id.type))
        where.append(key < after if descending else key > after)
    order = ((DataRequest.due_at.desc(), DataRequest.id.desc()) if descending
             else (DataRequest.due_at, DataRequest.id))
    parts = [db.select(*COLUMNS).where(*where, *([] if branch is None else [branch]))
             .order_by(*order).limit(size + 1) for branch in branches(filters, secret_key)]
    if len(parts) == 1:
        query = parts[0]
    else:
        merged = union_all(*(db.select(part.subquery()) for part in parts)).subquery()
        query = db.select(merged).order_by(
            *((merged.c.due_at.desc(), merged.c.id.desc()) if descending
              else (merged.c.due_at, merged.c.id))).limit(size + 1)
    rows = db.session.execute(query).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (make_cursor(rows[-1]) if more else None)
