"""Read-only console pages: the queue and a request's page. Actions live in actions.py."""
from flask import current_app, render_template, request
from flask_login import current_user

from workflows.store_work import field_key

from .. import deadlines
from ..errors import Refused
from ..extensions import db
from ..models import (
    OPEN_STATES,
    REGIMES,
    REQUEST_TYPES,
    STATES,
    AuditEvent,
    DataRequest,
    StaffUser,
    Step,
    utcnow,
)
from ..tokens import signing_keys
from . import bp
from .forms import (
    ActionForm,
    AssignForm,
    ExtendForm,
    MatchForm,
    NoteForm,
    ReasonForm,
    ResolveForm,
)
from .queue_query import QueueFilters, queue_page
from .rules import (
    RESOLVABLE_STATES,
    approval_refusal,
    correctable_fields,
    extension_refusal,
    matchable,
    retryable,
)
from .sla_badge import sla_badge


def staff_names():
    """id -> email for every staff member: a small table, read once per page."""
    return dict(db.session.execute(db.select(StaffUser.id, StaffUser.email)).all())


@bp.get("/")
def queue():
    filters = QueueFilters.from_args(request.args)
    now = utcnow()
    rows, next_cursor = queue_page(filters, current_user.id, now, signing_keys(current_app.config),
                                   current_app.config["STAFF_PAGE_SIZE"])
    badges = {row.id: sla_badge(row.state, row.due_at, row.closed_at, now, OPEN_STATES)
              for row in rows}
    return render_template(
        "staff/queue.html", rows=rows, badges=badges, filters=filters, next_cursor=next_cursor,
        names=staff_names(), states=STATES, types=REQUEST_TYPES, regimes=REGIMES)


def load_request(request_id):
    data_request = db.session.get(DataRequest, request_id)
    if data_request is None:
        raise Refused(404, "There is no request with that number.")
    return data_request


def corrections_review(data_request, correctable=()):
    """Proposed values next to what the stores hold now (from the preview job's snapshot);
    `known`: the field names one of `correctable` (the job matches names as field_key does)."""
    current = (data_request.preview or {}).get("current", {})
    known = {field_key(name) for name in correctable}
    return [{"field": c["field"], "problem": c.get("problem", ""), "proposed": c["proposed"],
             "current": current.get(c["field"], []), "known": field_key(c["field"]) in known}
            for c in data_request.corrections or []]


# The request page's forms, by the name the template uses. A refused action hands back its
# own, filled in as submitted and carrying its errors; the others start empty.
PAGE_FORMS = {"reject_form": ReasonForm, "cancel_form": ReasonForm, "extend_form": ExtendForm,
              "assign_form": AssignForm, "note_form": NoteForm, "resolve_form": ResolveForm,
              "match_form": MatchForm}


def render_request_page(data_request, status=200, error=None, **forms):
    """The request page: facts, preview, steps, timeline, and the controls of the actions
    that would be accepted now. `forms`: submitted forms to show again, with their errors."""
    request_id = data_request.id
    now = utcnow()
    events = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.request_id == request_id)
        .order_by(AuditEvent.seq)).scalars().all()
    steps = db.session.execute(
        db.select(Step).where(Step.request_id == request_id).order_by(Step.id)).scalars().all()
    correctable = correctable_fields() if matchable(data_request) else []
    cannot_extend = extension_refusal(data_request, now)
    limit = None if cannot_extend else deadlines.extension_limit(
        data_request.regime, data_request.due_at, data_request.timezone)
    page_forms = {name: forms.get(name) or form_class()
                  for name, form_class in PAGE_FORMS.items()}
    return render_template(
        "staff/request.html", req=data_request, events=events, steps=steps, now=now,
        error=error,
        badge=sla_badge(data_request.state, data_request.due_at, data_request.closed_at, now,
                        OPEN_STATES),
        names=staff_names(), extension_limit=limit,
        extension_refused=cannot_extend[1] if cannot_extend and data_request.is_open else None,
        approval_refused=approval_refusal(data_request),
        can_retry=retryable(data_request, any(s.state == "failed" for s in steps)),
        can_resolve=data_request.state in RESOLVABLE_STATES,
        corrections=corrections_review(data_request, correctable), correctable=correctable,
        rule=deadlines.RULES[data_request.regime], action_form=ActionForm(),
        blank_resolve_form=ResolveForm(), **page_forms,
        staff=db.session.execute(db.select(StaffUser).where(StaffUser.active.is_(True))
                                 .order_by(StaffUser.email)).scalars().all()
        if current_user.is_admin else []), status


@bp.get("/requests/<int:request_id>")
def request_page(request_id):
    return render_request_page(load_request(request_id))
