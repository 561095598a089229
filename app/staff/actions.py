"""The request page's actions: POST /staff/requests/<id>/<action>, CSRF-checked.

Each runs with the request row locked, writes its audit event (actor: the staff member's
email) in the same transaction as the change, commits, and only then enqueues work or mail:
a job never sees a change that might still roll back.
"""
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, flash, redirect, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.utils import secure_filename

from workflows.legal_texts import AUTHORITIES
from workflows.steps import resolve_manual_step
from workflows.store_work import field_key

from .. import deadlines
from ..audit import record
from ..errors import Refused
from ..extensions import db
from ..intake import send
from ..lifecycle import TransitionError, begin_workflow, lock, transition
from ..mail import deliver_later
from ..models import StaffUser, Step, utcnow
from ..queue import enqueue, enqueue_step
from . import bp
from .forms import AssignForm, ExtendForm, MatchForm, NoteForm, ReasonForm, ResolveForm
from .queue_query import row_id
from .rules import (
    approval_refusal,
    correctable_fields,
    extension_refusal,
    matchable,
    retryable,
)
from .views import load_request, render_request_page

BUILD_PREVIEW = "workflows.preview.build_preview"


@dataclass
class Outcome:
    message: str
    mail_ids: list = field(default_factory=list)
    step_ids: list = field(default_factory=list)
    jobs: list = field(default_factory=list)  # (function path, argument, job id)


def refuse(code, message):
    """Answer `code` with `message`; nothing of the refused change stays in the session."""
    db.session.rollback()
    raise Refused(code, message)


class FormRefused(Exception):
    """What the agent typed was refused (400: the form, 422: beyond the law). The request page
    is drawn again with their form as submitted, its errors next to its fields."""

    def __init__(self, code, message, **forms):
        super().__init__(message)
        self.code, self.message, self.forms = code, message, forms


def valid(form):
    """`form`, validated; else a 400 page in words (the admin pages' refusal)."""
    if not form.validate():
        refuse(400, next(iter(form.errors.values()))[0])
    return form


def valid_on_page(form, name):
    """`form`, validated; else refused with the request page showing it again as `name`."""
    if not form.validate():
        raise FormRefused(400, next(iter(form.errors.values()))[0], **{name: form})
    return form


def refuse_field(code, message, form, name, field):
    """Refuse with `message` shown on `field` of the submitted form."""
    field.errors = [*field.errors, message]
    raise FormRefused(code, message, **{name: form})


def actor():
    return current_user.email


def approve(data_request):
    refusal = approval_refusal(data_request)
    if refusal:
        refuse(409, refusal)
    step_id = begin_workflow(data_request, actor(), "approved")
    return Outcome("Approved: the workflow has started.", step_ids=[step_id])


def complaint_route(regime):
    # The company's own regime has no authority of its own: it is governed by Japanese law.
    return AUTHORITIES.get("appi" if regime == "company" else regime, AUTHORITIES["appi"])


def reject(data_request):
    reason = valid_on_page(ReasonForm(), "reject_form").reason.data
    transition(data_request, "rejected", actor(), reason=reason, action="rejected")
    authority, authority_url = complaint_route(data_request.regime)
    mail_id = send(data_request, "rejected", reason=reason, authority=authority,
                   authority_url=authority_url)
    return Outcome("Rejected; the person has been emailed the reason.", mail_ids=[mail_id])


def extend(data_request):
    form = valid_on_page(ExtendForm(), "extend_form")
    refusal = extension_refusal(data_request, utcnow())
    if refusal and refusal[0] == 422:  # the law allows none: a page in words, form kept
        raise FormRefused(*refusal, extend_form=form)
    if refusal:
        refuse(*refusal)
    old_due, zone = data_request.due_at, data_request.timezone
    limit = deadlines.extension_limit(data_request.regime, old_due, zone)
    # Staff pick a date on the person's calendar (the one their email and status page show),
    # at the same local time of day as the current deadline.
    new_due = deadlines.on_local_date(form.new_due.data, old_due, zone)
    if new_due <= old_due:
        refuse_field(422, "The new date must be after the current due date.",
                     form, "extend_form", form.new_due)
    if new_due > limit:
        refuse_field(422, f"The new date is beyond what "
                          f"{deadlines.RULES[data_request.regime].label} allows: at most "
                          f"{deadlines.local_date(limit, zone).isoformat()} ({zone}).",
                     form, "extend_form", form.new_due)
    reason = form.reason.data
    data_request.original_due_at, data_request.extension_reason = old_due, reason
    data_request.due_at = new_due
    record(data_request, actor(), "extended",
           reason=f"due {deadlines.local_date(old_due, zone).isoformat()} -> "
                  f"{deadlines.local_date(new_due, zone).isoformat()} ({zone}): {reason}")
    mail_id = send(data_request, "extended", reason=reason, new_due=new_due, old_due=old_due)
    return Outcome("Extended; the person has been emailed the new date.", mail_ids=[mail_id])


def assign(data_request):
    form = valid_on_page(AssignForm(), "assign_form")
    value = form.assignee.data or ""
    # An agent takes a free request or lets go of their own; a request someone else holds,
    # and any choice of another person, is an admin's call.
    held_by_another = data_request.assignee_id not in (None, current_user.id)
    if not current_user.is_admin and (value not in ("me", "") or held_by_another):
        refuse(403, "Agents can assign requests to themselves; ask an admin for others.")
    if value == "me":
        target = db.session.get(StaffUser, current_user.id)
    elif value == "":
        target = None
    else:
        number = row_id(value)
        target = db.session.get(StaffUser, number) if number else None
        if target is None or not target.active:
            refuse_field(400, "Choose an active staff member.", form, "assign_form",
                         form.assignee)
    data_request.assignee_id = target.id if target else None
    record(data_request, actor(), "assigned",
           reason=f"assigned to {target.email}" if target else "unassigned")
    return Outcome(f"Assigned to {target.email}." if target else "Unassigned.")


def cancel(data_request):
    reason = valid_on_page(ReasonForm(), "cancel_form").reason.data
    transition(data_request, "cancelled", actor(), reason=reason, action="cancelled")
    return Outcome("Cancelled; the person has been told.",
                   mail_ids=[send(data_request, "cancelled_by_staff", reason=reason)])


def retry(data_request):
    failed = db.session.execute(
        db.select(Step).where(Step.request_id == data_request.id, Step.state == "failed")
    ).scalars().all()
    if not retryable(data_request, bool(failed)):
        refuse(409, "Nothing to retry: no step has failed." if data_request.state == "in_progress"
               else "Only a request in progress or needing attention can be retried.")
    if data_request.state == "needs_attention":
        transition(data_request, "in_progress", actor(), reason="retry failed steps",
                   action="retried")
    else:
        record(data_request, actor(), "retried", reason="retry failed steps")
    for step in failed:
        # A fresh set of attempts: the staff member fixed (or is fixing) what made it fail.
        step.state, step.attempts, step.finished_at = "pending", 0, None
    db.session.flush()
    # Pending steps too: one whose job ran while the request needed attention was handed
    # back pending, and no job of its own is left to run it.
    queued = db.session.execute(
        db.select(Step.id).where(Step.request_id == data_request.id, Step.state == "pending")
    ).scalars().all()
    return Outcome(ngettext("%(num)d step queued again.", "%(num)d steps queued again.",
                            len(queued)), step_ids=queued)


def note(data_request):
    text = valid_on_page(NoteForm(), "note_form").note.data
    record(data_request, actor(), "note", reason=text)
    return Outcome("Note added.")


def preview(data_request):
    if not data_request.is_open or not data_request.email:
        refuse(409, "A preview needs an open request (closed ones no longer hold the email).")
    record(data_request, actor(), "preview_requested")
    return Outcome("Preview requested: reload the page in a moment.",
                   jobs=[(BUILD_PREVIEW, data_request.id, f"preview-{data_request.id}")])


def match(data_request):
    """Point a field the person named in their own words ("Full name") at the correctable
    field it means (``name``), before approval: otherwise the job would change nothing."""
    form = valid_on_page(MatchForm(), "match_form")
    if not matchable(data_request):
        refuse(409, "Fields can be matched on a correction awaiting approval only.")
    column = form.column.data
    if column not in correctable_fields():
        refuse_field(400, "Choose one of the data map's correctable fields.", form,
                     "match_form", form.column)
    corrections = [dict(c) for c in data_request.corrections or []]
    entry = next((c for c in corrections if c["field"] == form.field.data), None)
    if entry is None:
        refuse_field(400, "The person proposed no field of that name.", form, "match_form",
                     form.field)
    if any(field_key(c["field"]) == field_key(column) for c in corrections):
        refuse(409, f"The request already proposes a value for {column}: a field can take "
                    "one value.")
    as_written, entry["field"] = entry["field"], column
    data_request.corrections = corrections  # a new list, so the change is saved
    # What the last scan showed was for the old name: scan again for the new one.
    data_request.preview, data_request.preview_at = None, None
    record(data_request, actor(), "correction_matched",
           reason=f"\"{as_written}\" means {column}")
    return Outcome(f"\"{as_written}\" now means {column}; the stores are scanned again.",
                   jobs=[(BUILD_PREVIEW, data_request.id, f"preview-{data_request.id}")])


def resolve(data_request):
    form = valid_on_page(ResolveForm(), "resolve_form")
    step_id = form.step_id.data
    number = row_id(step_id)
    step = db.session.get(Step, number) if number else None
    if step is None or step.request_id != data_request.id:
        refuse(404, "That step is not part of this request.")
    upload = form.upload.data
    with tempfile.TemporaryDirectory() as folder:
        path = None
        if upload and upload.filename:
            path = Path(folder) / (secure_filename(upload.filename) or "export")
            upload.save(path)
        try:
            # Locks the request, writes its own audit event and commits (shared with the CLI).
            resolve_manual_step(step, actor(), form.note.data, path)
        except ValueError as exc:
            refuse(409, str(exc))
    return Outcome(f"{step.store} marked done.")


ACTIONS = {"approve": approve, "reject": reject, "extend": extend, "assign": assign,
           "cancel": cancel, "retry": retry, "note": note, "preview": preview,
           "resolve": resolve, "match": match}


# One rule for both methods: with a GET rule of its own, Werkzeug answered an id too large for
# the converter with 405 instead of 404.
@bp.route("/requests/<int:request_id>/<action>", methods=["GET", "POST"])
def action(request_id, action):
    handler = ACTIONS.get(action)
    if handler is None:
        raise Refused(404, "There is no such action.")
    if request.method == "GET":
        # The address opened as a page (reloading after a refusal, a copied address): the
        # request's page, instead of "method not allowed".
        return redirect(url_for("staff.request_page", request_id=request_id), code=303)
    data_request = lock(request_id)
    if data_request is None:
        raise Refused(404, "There is no request with that number.")
    try:
        outcome = handler(data_request)
    except TransitionError as exc:
        refuse(409, str(exc).capitalize() + ".")
    except FormRefused as exc:
        db.session.rollback()
        return render_request_page(load_request(request_id), exc.code, exc.message, **exc.forms)
    except HTTPException:
        db.session.rollback()
        raise
    db.session.commit()
    deliver_later(outcome.mail_ids)
    for step_id in outcome.step_ids:
        enqueue_step(step_id)
    for path, argument, job_id in outcome.jobs:
        enqueue(path, argument, job_id=job_id)
    current_app.logger.info("staff %s: %s on request %s", current_user.id, action, request_id)
    flash(outcome.message)
    return redirect(url_for("staff.request_page", request_id=request_id))
