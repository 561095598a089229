"""Requests follow people's access: deactivating an account hands back its open requests."""
from ..audit import record
from ..extensions import db
from ..lifecycle import lock
from ..models import OPEN_STATES, DataRequest


def release_assignments(staff_row, actor):
    """Unassign every open request of `staff_row`, on each request's audit trail, in the
    caller's transaction; returns how many. Otherwise they would sit under "Mine" of someone
    who can no longer log in, and only the overdue escalation would notice."""
    ids = db.session.execute(
        db.select(DataRequest.id).where(DataRequest.assignee_id == staff_row.id,
                                        DataRequest.state.in_(OPEN_STATES))
        .order_by(DataRequest.id)
    ).scalars().all()
    for request_id in ids:
        data_request = lock(request_id)
        data_request.assignee_id = None
        record(data_request, actor, "assigned",
               reason=f"unassigned: {staff_row.email} was deactivated")
    return len(ids)
