"""The SLA badge staff see on every request: words first, colour second. Pure."""
from ..deadlines import calendar_days_left

DUE_SOON_DAYS = 7  # the first reminder goes out at 7 days: "due soon" starts there too


def _days(n):
    return "1 day" if n == 1 else f"{n} days"


def sla_badge(state, due_at, closed_at, now, open_states):
    """(words, css class) for a request: on track / due soon / overdue, or how it closed."""
    if due_at is None:
        return "No due date", "sla-none"
    if state not in open_states:
        if state in ("expired", "cancelled"):
            return "Closed", "sla-none"
        if closed_at is not None and closed_at > due_at:
            return "Closed late", "sla-late"
        return "Closed in time", "sla-ok"
    # Calendar days in UTC, the zone of the console's Due column: "due today" next to a date
    # of tomorrow (13 hours away at 20:00) would contradict it.
    left = calendar_days_left(due_at, now)
    if due_at < now:
        if left == 0:
            return "Overdue: was due earlier today", "sla-overdue"
        return f"Overdue by {_days(-left)}", "sla-overdue"
    if left == 0:
        return "Due soon: due today", "sla-soon"
    if left < DUE_SOON_DAYS:
        return f"Due soon: {_days(left)} left", "sla-soon"
    return f"On track: {_days(left)} left", "sla-ok"
