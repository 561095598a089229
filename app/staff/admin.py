"""Admin pages: staff accounts and API keys, what the `staff` and `api-key` commands do.

Every change is a POST with its CSRF token, by an admin (`admin_only`; the blueprint refuses
everyone else). A secret made here — a generated password, an API key — is shown once, on the
response to the POST, and never stored in the clear (/staff pages are all `no-store`).

Every change is recorded in the admin chain (`app.audit.record_admin`: append-only, hash
chained, checked by `flask --app wsgi audit verify`) in the same transaction as the change, and
logged once committed. Both name ids only ("staff:3", "api_key:7"), never an email, a password
or a key. The newest events are listed at /staff/admin/log.
"""
import logging
import secrets

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..api.auth import KEY_PREFIX, create_api_key, revoke_api_key
from ..audit import record_admin, verify_admin_chain
from ..errors import Refused
from ..extensions import db
from ..models import API_SCOPES, STAFF_ROLES, AdminEvent, ApiKey, StaffUser, utcnow
from . import admin_only, bp
from .actions import refuse, valid
from .assignments import release_assignments
from .forms import ActionForm, ApiKeyForm, NewStaffForm, RoleForm
from .passwords import hash_password

log = logging.getLogger(__name__)


def save(action=None, target=None, detail=None):
    """Record the change on the admin chain (same transaction), commit both, then log it.

    409 when another admin's change took the same place in the chain at the same moment:
    nothing of this one is saved.
    """
    actor = f"staff:{current_user.id}"
    if action:
        record_admin(actor, action, target, detail)
    try:
        db.session.commit()
    except IntegrityError:
        refuse(409, _("Another change was saved at the same moment. Nothing was changed: "
                      "please try again."))
    if action:
        # WARNING, not INFO: these are security events, and a server with Python's default
        # logging (gunicorn's included) drops INFO.
        log.warning("admin %s: %s %s%s", actor, action, target, f" ({detail})" if detail else "")


# --- staff accounts --------------------------------------------------------------------------

def staff_page(form, status=200):
    rows = db.session.execute(db.select(StaffUser).order_by(StaffUser.email)).scalars().all()
    return render_template("staff/admin_staff.html", rows=rows, form=form, roles=STAFF_ROLES,
                           action_form=ActionForm(), now=utcnow()), status


@bp.get("/admin/staff")
@admin_only
def admin_staff():
    return staff_page(NewStaffForm())


@bp.post("/admin/staff")
@admin_only
def admin_staff_create():
    form = NewStaffForm()
    if not form.validate():
        return staff_page(form, 400)
    email = form.email.data.lower()
    generated = None if form.password.data else secrets.token_urlsafe(18)
    row = StaffUser(email=email, role=form.role.data,
                    password_hash=hash_password(form.password.data or generated))
    db.session.add(row)
    try:
        db.session.flush()  # the email's unique constraint answers here, before the event
    except IntegrityError:
        db.session.rollback()
        form.email.errors.append(_("That email already has an account."))
        return staff_page(form, 409)
    save("created staff", f"staff:{row.id}", f"role {row.role}")
    return render_template("staff/admin_staff_created.html", row=row, password=generated)


def account(staff_id):
    row = db.session.get(StaffUser, staff_id)
    if row is None:
        raise Refused(404, _("There is no staff account with that number."))
    return row


def keeps_an_admin(staff_id):
    """SQL condition: this account is not an active admin, or another active admin remains."""
    other = aliased(StaffUser)
    return db.or_(
        db.not_(db.and_(StaffUser.role == "admin", StaffUser.active.is_(True))),
        db.exists().where(other.role == "admin", other.active.is_(True), other.id != staff_id))


def lock_admins():
    # PostgreSQL: two admins removing each other at once queue here, and the second then sees
    # the first's change. SQLite runs one writer at a time, and the UPDATE below is one statement.
    db.session.execute(db.select(StaffUser.id).where(
        StaffUser.role == "admin", StaffUser.active.is_(True)).with_for_update())


def remove_rights(row, **values):
    """Demote or deactivate `row`, but never the last active admin (409), nor oneself."""
    if row.id == current_user.id:
        refuse(409, _("You cannot demote or deactivate your own account: ask another admin."))
    lock_admins()
    changed = db.session.execute(
        db.update(StaffUser).where(StaffUser.id == row.id, keeps_an_admin(row.id))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if not changed:
        refuse(409, _("%(email)s is the last active admin: make someone else an admin first.",
                      email=row.email))


def done(message, action=None, target=None):
    """Record the change, commit both, log it, and go back."""
    save(action, f"staff:{target}")
    flash(message)
    return redirect(url_for("staff.admin_staff"))


@bp.post("/admin/staff/<int:staff_id>/role")
@admin_only
def admin_staff_role(staff_id):
    form = valid(RoleForm())
    row = account(staff_id)
    role = form.role.data
    if role == row.role:
        return done(_("%(email)s is already %(role)s.", email=row.email, role=role))
    if role == "admin":
        row.role = role
    else:
        remove_rights(row, role=role)
    # The role is read from the row on every request: it applies from their next click.
    return done(_("%(email)s is now %(role)s.", email=row.email, role=role),
                f"made {role}", row.id)


@bp.post("/admin/staff/<int:staff_id>/deactivate")
@admin_only
def admin_staff_deactivate(staff_id):
    valid(ActionForm())
    row = account(staff_id)
    # A new session version ends every open session, as a password change does.
    remove_rights(row, active=False, session_version=StaffUser.session_version + 1)
    released = release_assignments(row, current_user.email)
    return done(_("%(email)s is deactivated and logged out everywhere; %(count)s open "
                  "request(s) assigned to them are unassigned.", email=row.email,
                  count=released),
                "deactivated staff", row.id)


def set_fields(staff_id, **values):
    """A change that takes no one's rights away (`done` commits it)."""
    valid(ActionForm())
    row = account(staff_id)
    for name, value in values.items():
        setattr(row, name, value)
    return row


@bp.post("/admin/staff/<int:staff_id>/reactivate")
@admin_only
def admin_staff_reactivate(staff_id):
    # Their old sessions stay ended: deactivation moved the session version on.
    row = set_fields(staff_id, active=True)
    return done(_("%(email)s can log in again.", email=row.email), "reactivated staff", row.id)


@bp.post("/admin/staff/<int:staff_id>/unlock")
@admin_only
def admin_staff_unlock(staff_id):
    row = set_fields(staff_id, failed_logins=0, locked_until=None)
    return done(_("%(email)s is unlocked.", email=row.email), "unlocked staff", row.id)


@bp.post("/admin/staff/<int:staff_id>/reset-totp")
@admin_only
def admin_staff_reset_totp(staff_id):
    if staff_id == current_user.id:
        # Removing one's own second factor asks for the password there: a session left open
        # (or stolen) must not be enough to turn it off.
        refuse(409, _("You cannot reset your own second factor here: remove it on your "
                      "account page (/staff/account), which asks for your password."))
    row = set_fields(staff_id, totp_secret=None)
    return done(_("%(email)s logs in with the password alone until a new second factor is set "
                  "up (flask --app wsgi staff totp).", email=row.email),
                "reset second factor of staff", row.id)


# --- API keys ---------------------------------------------------------------------------------

def keys_page(form, status=200, error=None):
    keys = db.session.execute(db.select(ApiKey).order_by(ApiKey.id.desc())).scalars().all()
    return render_template("staff/admin_api_keys.html", keys=keys, form=form, error=error,
                           scopes=API_SCOPES, key_prefix=KEY_PREFIX,
                           action_form=ActionForm()), status


@bp.get("/admin/api-keys")
@admin_only
def admin_api_keys():
    return keys_page(ApiKeyForm())


@bp.post("/admin/api-keys")
@admin_only
def admin_api_key_create():
    form = ApiKeyForm()
    if not form.validate():
        return keys_page(form, 400)
    try:
        # The name and scope rules of `api-key create`, in one place.
        api_key, plaintext = create_api_key(form.name.data, form.scopes.data, current_user.email)
    except ValueError as exc:
        db.session.rollback()
        return keys_page(form, 400, error=str(exc))
    save("created api key", f"api_key:{api_key.id}", f"scopes {api_key.scopes}")
    return render_template("staff/admin_api_key_created.html", key=api_key, plaintext=plaintext)


@bp.post("/admin/api-keys/<int:key_id>/revoke")
@admin_only
def admin_api_key_revoke(key_id):
    valid(ActionForm())
    api_key = revoke_api_key(key_id)
    if api_key is None:
        raise Refused(404, _("There is no API key with that number."))
    save("revoked api key", f"api_key:{api_key.id}")
    flash(_("The key %(name)s is revoked: it stops working at once.", name=api_key.name))
    return redirect(url_for("staff.admin_api_keys"))


# --- the admin chain --------------------------------------------------------------------------

@bp.get("/admin/log")
@admin_only
def admin_log():
    events = db.session.execute(
        db.select(AdminEvent).order_by(AdminEvent.seq.desc()).limit(200)).scalars().all()
    return render_template("staff/admin_log.html", events=events, chain=verify_admin_chain())
