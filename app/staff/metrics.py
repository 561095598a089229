"""Metrics for admins (SPEC: "admin ... metrics"): workload now, and how the last twelve months
went — in time or late, median days to close, by type and by month. Numbers and SVG charts.
"""
import statistics
from collections import Counter, defaultdict
from datetime import timedelta

from flask import render_template

from ..deadlines import add_months
from ..extensions import db
from ..models import REQUEST_TYPES, DataRequest, utcnow
from . import admin_only, bp
from .charts import bar_chart, stacked_columns

CONFIRMED_OPEN = ("verified", "in_progress", "needs_attention")
ANSWERED = ("completed", "rejected")  # cancelled and expired were never ours to answer


def current_numbers(now):
    # One count per state: each walks ix_data_requests_state_due, never the closed history.
    def count(*conditions, states=CONFIRMED_OPEN):
        return sum(db.session.scalar(db.select(db.func.count()).select_from(DataRequest).where(
            DataRequest.state == state, *conditions)) for state in states)
    return {
        "open": count(),
        "due_soon": count(DataRequest.due_at > now, DataRequest.due_at <= now + timedelta(days=7)),
        "overdue": count(DataRequest.due_at <= now),
        "awaiting_confirmation": count(states=("pending_verification",)),
    }


def month_labels(now, count=12):
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return [add_months(first, -i).strftime("%Y-%m") for i in range(count - 1, -1, -1)]


def history(now):
    """Requests received in the last twelve months (read through ix_data_requests_received)."""
    start = add_months(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), -11)
    rows = db.session.execute(
        db.select(DataRequest.received_at, DataRequest.request_type, DataRequest.state,
                  DataRequest.due_at, DataRequest.closed_at)
        .where(DataRequest.received_at >= start)).all()
    months = {label: Counter() for label in month_labels(now)}
    by_type = {kind: Counter() for kind in REQUEST_TYPES}
    days_to_close, days_by_type = [], defaultdict(list)
    for received, kind, state, due, closed in rows:
        month = months.setdefault(received.strftime("%Y-%m"), Counter())
        by_type[kind]["received"] += 1
        if state in ANSWERED and closed is not None:
            outcome = "in_time" if due is None or closed <= due else "late"
            month[outcome] += 1
            by_type[kind][outcome] += 1
            days = (closed - received).total_seconds() / 86400
            days_to_close.append(days)
            days_by_type[kind].append(days)
        elif state not in ("cancelled", "expired"):
            month["open"] += 1
    medians = {kind: round(statistics.median(v), 1) if v else None
               for kind, v in days_by_type.items()}
    return {
        "months": months, "by_type": by_type, "medians": medians,
        "median": round(statistics.median(days_to_close), 1) if days_to_close else None,
        "in_time": sum(m["in_time"] for m in months.values()),
        "late": sum(m["late"] for m in months.values()),
    }


@bp.get("/metrics")
@admin_only
def metrics():
    now = utcnow()
    numbers, past = current_numbers(now), history(now)
    charts = {
        "months": stacked_columns(
            "Requests received per month: answered in time, late, still open",
            list(past["months"].items()), ("in_time", "late", "open")),
        "types": bar_chart("Requests received per type, last twelve months",
                           [(kind, past["by_type"][kind]["received"]) for kind in REQUEST_TYPES]),
        "now": bar_chart("Open requests now", [("open", numbers["open"]),
                                               ("due soon", numbers["due_soon"]),
                                               ("overdue", numbers["overdue"])]),
    }
    return render_template("staff/metrics.html", numbers=numbers, past=past, charts=charts,
                           types=REQUEST_TYPES)
