"""CSV exports (admin): the request register, and one request's audit trail with its chain
checked. Streamed in keyset batches so the register of 100k requests never sits in memory.
"""
import csv
import io

from flask import Response, stream_with_context

from ..audit import verify_chain
from ..extensions import db
from ..models import AuditEvent, DataRequest, StaffUser, utcnow
from . import admin_only, bp
from .views import load_request

REGISTER_COLUMNS = ("reference", "request_type", "regime", "region", "state", "received_at",
                    "verified_at", "due_at", "original_due_at", "extension_reason", "closed_at",
                    "close_reason", "assignee")
BATCH = 1000


def cell(value):
    """Text a spreadsheet will not run as a formula (=, +, -, @ lead a formula)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_line(values):
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell(v) for v in values])
    return buffer.getvalue()


def register_rows():
    """No names or emails: the register records what was asked and done, not who asked."""
    names = dict(db.session.execute(db.select(StaffUser.id, StaffUser.email)).all())
    columns = [getattr(DataRequest, c) for c in REGISTER_COLUMNS[:-1]]
    last_id = 0
    while True:
        rows = db.session.execute(
            db.select(DataRequest.id, DataRequest.assignee_id, *columns)
            .where(DataRequest.id > last_id).order_by(DataRequest.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield [*row[2:], names.get(row.assignee_id)]
        last_id = rows[-1].id


def attachment(body, filename):
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/export/register.csv")
@admin_only
def export_register():
    def lines():
        yield csv_line(REGISTER_COLUMNS)
        for values in register_rows():
            yield csv_line(values)
    stamp = utcnow().strftime("%Y%m%d")
    return attachment(stream_with_context(lines()), f"request-register-{stamp}.csv")


@bp.get("/requests/<int:request_id>/audit.csv")
@admin_only
def export_audit(request_id):
    data_request = load_request(request_id)
    report = verify_chain(data_request)
    events = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.request_id == request_id)
        .order_by(AuditEvent.seq)).scalars().all()
    status = "verified" if report.ok else f"BROKEN: {report.problem}"
    lines = [csv_line(["request", data_request.reference, "chain", status,
                       "events", report.events, "exported_at", utcnow()]),
             csv_line(["seq", "at", "actor", "action", "from_state", "to_state", "reason",
                       "prev_hash", "hash"])]
    lines += [csv_line([e.seq, e.at, e.actor, e.action, e.from_state, e.to_state, e.reason,
                        e.prev_hash, e.hash]) for e in events]
    response = attachment("".join(lines), f"audit-{data_request.reference}.csv")
    response.headers["X-Audit-Chain"] = "verified" if report.ok else "broken"
    return response
