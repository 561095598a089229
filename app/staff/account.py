"""A staff member's own account: change the password, set up or remove the second factor.

Each change needs proof that it is really them (the current password, or a code from the new
authenticator), is recorded on the admin chain, and moves the session version on: every other
session of the account ends, this one continues with the new version.
"""
import time
from datetime import timedelta

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.security import check_password_hash

from ..audit import record_admin
from ..extensions import db
from ..models import StaffUser, utcnow
from ..ratelimit import hit
from . import bp, totp
from .auth import count_failure, first_use, start_session
from .forms import PasswordChangeForm, PasswordConfirmForm, TotpSetupForm
from .passwords import hash_password

# A secret offered for set-up must be confirmed within this time. It waits in the staff row,
# never in the session: Flask's session is a signed but readable cookie, and a copy of it taken
# during set-up would otherwise hold the seed of the second factor for as long as it stays on.
SETUP_SECONDS = 600


def confirm_form():
    # Its own prefix: the page also holds the password form, whose field is "current" too.
    return PasswordConfirmForm(prefix="confirm")


def own_row():
    return db.session.get(StaffUser, current_user.id)


def pending_secret(row):
    """The secret offered for set-up, while it is fresh; a stale one is forgotten."""
    at = row.totp_pending_at
    if row.totp_pending_secret and at and utcnow() - at <= timedelta(seconds=SETUP_SECONDS):
        return row.totp_pending_secret
    if row.totp_pending_secret or at:
        forget_pending(row)
        db.session.commit()
    return None


def forget_pending(row):
    row.totp_pending_secret = row.totp_pending_at = None


def account_page(status=200, **forms):
    row = own_row()
    secret = None if row.totp_secret else pending_secret(row)
    return render_template(
        "staff/account.html", row=row, secret=secret,
        uri=totp.provisioning_uri(secret, row.email, "DSR Portal") if secret else None,
        password_form=forms.get("password_form") or PasswordChangeForm(),
        setup_form=forms.get("setup_form") or TotpSetupForm(),
        confirm_form=forms.get("confirm_form") or confirm_form()), status


def password_refusal(row, form, page_form):
    """None when the current password is right; else the response that refuses the change.

    A wrong one counts towards the lockout like a login. While the account is locked no
    password is checked at all: the lockout must stop guesses from an open session as it stops
    them at the login page. Here the person is logged in as this account, so saying "locked"
    tells nothing new, and it spares them guesses that could not succeed anyway. The guess
    that locks the account ends the session that made it (and every other): a session guessing
    its own password is as likely a borrowed console or a copied cookie as its owner. Failed
    logins lock without ending sessions, or anyone could log a staff member out by typing
    wrong passwords for their address.
    """
    hit("login")
    if row.is_locked(utcnow()):
        form.current.errors = [_("Your account is locked for a while after too many wrong "
                                 "passwords. Try again later or ask an admin to unlock it.")]
        return account_page(400, **{page_form: form})
    if check_password_hash(row.password_hash, form.current.data or ""):
        return None
    count_failure(row, utcnow())
    db.session.commit()
    db.session.refresh(row)
    if row.is_locked(utcnow()):
        row.session_version += 1
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Too many wrong passwords: the account is locked for a while and its sessions "
                "are logged out."))
        return redirect(url_for("staff.login"))
    form.current.errors = [_("That is not your current password.")]
    return account_page(400, **{page_form: form})


def save(row, action):
    """Record the change, end the account's other sessions, keep this one."""
    row.session_version += 1
    record_admin(f"staff:{row.id}", action, f"staff:{row.id}")
    db.session.commit()
    start_session(row)


@bp.get("/account")
def account():
    return account_page()


@bp.post("/account/password")
def account_password():
    form = PasswordChangeForm()
    row = own_row()
    if not form.validate():
        return account_page(400, password_form=form)
    refused = password_refusal(row, form, "password_form")
    if refused:
        return refused
    if check_password_hash(row.password_hash, form.new.data):
        form.new.errors = [_("The new password must differ from the current one.")]
        return account_page(400, password_form=form)
    row.password_hash = hash_password(form.new.data)
    save(row, "changed own password")
    flash(_("Your password is changed; your other sessions are logged out."))
    return redirect(url_for("staff.account"))


@bp.post("/account/totp/start")
def account_totp_start():
    form = confirm_form()
    row = own_row()
    if row.totp_secret:
        flash(_("A second factor is already set up."))
        return redirect(url_for("staff.account"))
    if not form.validate():
        return account_page(400, confirm_form=form)
    refused = password_refusal(row, form, "confirm_form")
    if refused:
        return refused
    row.totp_pending_secret, row.totp_pending_at = totp.new_secret(), utcnow()
    db.session.commit()
    return redirect(url_for("staff.account"))


@bp.post("/account/totp/confirm")
def account_totp_confirm():
    form = TotpSetupForm()
    row = own_row()
    secret = pending_secret(row)
    if row.totp_secret or secret is None:
        flash(_("Start the set-up again: the offered secret has expired."))
        return redirect(url_for("staff.account"))
    hit("login")
    counter = totp.matching_counter(secret, form.code.data, time.time()) \
        if form.validate() else None
    if counter is None or not first_use(row.id, counter):
        form.code.errors = [_("That code is not right. Check the app's clock and try the "
                              "newest code.")]
        return account_page(400, setup_form=form)
    row.totp_secret = secret
    forget_pending(row)
    save(row, "set own second factor")
    flash(_("Your second factor is on: from now on you log in with a code as well."))
    return redirect(url_for("staff.account"))


@bp.post("/account/totp/remove")
def account_totp_remove():
    form = confirm_form()
    row = own_row()
    if not form.validate():
        return account_page(400, confirm_form=form)
    refused = password_refusal(row, form, "confirm_form")
    if refused:
        return refused
    if row.totp_secret:
        row.totp_secret = None
        save(row, "removed own second factor")
        flash(_("Your second factor is removed: you log in with the password alone."))
    return redirect(url_for("staff.account"))
