"""When each request action is accepted: shared by the actions, which refuse otherwise, and
the request page, which draws a control only when its action would accept it."""
from flask import current_app

from workflows.datamap import load_datamap
from workflows.store_work import field_key

from .. import deadlines
from ..models import WORKFLOW_STATES

# A manual step is resolved while its workflow runs; workflows.steps.resolve_manual_step
# checks the same under the request's lock.
RESOLVABLE_STATES = WORKFLOW_STATES


def correctable_fields():
    """{field the data map lets a correction change: ["store.table", ...] holding it}, sorted
    by field: staff choosing what a person's words mean see where each field lives."""
    data_map = load_datamap(current_app.config["STORES_CONFIG"])
    places = {}
    for store in data_map.stores:
        for table in store.tables:
            for column in table.correctable:
                places.setdefault(column, []).append(f"{store.name}.{table.table}")
    return dict(sorted(places.items()))


def approval_refusal(data_request):
    """Why `approve` would be refused now, or None. A correction none of whose fields names a
    correctable field would change nothing and then wait for staff with no way forward:
    staff match the person's words to the data map's fields first (or reject)."""
    if data_request.request_type != "correction" or data_request.state != "verified":
        return None
    known = {field_key(name) for name in correctable_fields()}
    if any(field_key(c["field"]) in known for c in data_request.corrections or []):
        return None
    return ("No field the person named is one the data map lets a correction change: match "
            "each to the field it means below, or reject the request with a reason.")


def matchable(data_request):
    """A correction awaiting approval: staff may still say which field the person meant."""
    return data_request.request_type == "correction" and data_request.state == "verified"


def retryable(data_request, has_failed_steps):
    """Retry revives a request needing attention, or the failed steps of one in progress."""
    return data_request.state == "needs_attention" or (
        data_request.state == "in_progress" and has_failed_steps)


def extension_refusal(data_request, now):
    """(status, why in words) when `extend` would be refused now; None when it may go ahead."""
    if not data_request.is_open:
        return 409, "Only an open request can be extended."
    if data_request.state == "pending_verification":
        return 409, ("The person has not confirmed the request yet: it can be extended once "
                     "it is confirmed.")
    if data_request.original_due_at is not None:
        return 409, "This request was already extended once; the law allows one extension."
    if deadlines.extension_limit(data_request.regime, data_request.due_at,
                                 data_request.timezone) is None:
        return 422, (f"{deadlines.RULES[data_request.regime].label} allows no extension: the "
                     "company's promise is the deadline.")
    if data_request.due_at < now:
        return 409, "The deadline has passed: an extension must be notified before it."
    return None
