"""Logging in: passwords (scrypt), lockout, an optional TOTP second factor, logout.

No enumeration: an unknown email, a wrong password, a locked or disabled account all get the
same page, status and (scrypt-dominated) timing: a dummy hash is checked when there is no
real one.
"""
import logging
import re
import time
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlparse

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from redis.exceptions import RedisError
from sqlalchemy import func
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import StaffUser, utcnow
from ..queue import redis_connection
from ..ratelimit import hit
from . import bp, login_manager, totp
from .forms import LoginForm, TotpForm
from .passwords import hash_password

log = logging.getLogger(__name__)
REFUSED = ("That email and password do not match an active account, or the account is locked "
           "for a while after too many attempts. Try again later or ask an admin.")
TOTP_PENDING_SECONDS = 300
# Control characters cannot go into a Location header (they gave a 500), and browsers read a
# backslash as a slash: neither belongs in a console path.
NOT_IN_A_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


class Staff(UserMixin):
    """The logged-in staff member as flask-login sees them (the row stays in models.py)."""

    def __init__(self, row):
        self.id, self.email, self.role = row.id, row.email, row.role
        self.version, self.active = row.session_version, row.active

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        # The version makes old sessions invalid once an admin bumps it (password change).
        return f"{self.id}:{self.version}"


@login_manager.user_loader
def load_staff(session_id):
    try:
        staff_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    row = db.session.get(StaffUser, staff_id)
    if row is None or not row.active or row.session_version != version:
        return None
    return Staff(row)


@lru_cache(maxsize=1)
def _dummy_hash():
    return hash_password("not-a-real-password")


def find_staff(email):
    return db.session.execute(
        db.select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()


def check_login(email, password):
    """The staff row when email and password are right and the account may log in, else None.

    A failure on an existing account counts towards its lockout; the scrypt check and the
    failure's write always run, whatever the address.
    """
    row = find_staff(email)
    now = utcnow()
    good = check_password_hash(row.password_hash if row else _dummy_hash(), password)
    if row is not None and row.active and not row.is_locked(now) and good:
        # With a code still to come the failure count stays: were the password alone to reset
        # it, rounds of password + wrong codes would never reach the lockout.
        if not row.totp_secret:
            login_succeeded(row)
        db.session.commit()
        return row
    count_failure(row, now)
    db.session.commit()
    return None


def login_succeeded(row):
    """The whole login (password, and code if any) is right: failures start again from 0."""
    row.failed_logins, row.locked_until, row.last_login_at = 0, None, utcnow()


def count_failure(row, now):
    """One atomic increment; the failure that reaches the limit locks the account.

    Nothing counts against no account (`row` None: an unknown address) or against an account
    locked already: more failures while locked must not extend the lock. The same statements
    then rewrite the first staff row unchanged, so a failure costs one durable write either
    way: were only counted failures written, the commit's flush to disk would tell which
    addresses have an account, and which are locked.
    """
    config = current_app.config
    counts = row is not None and not row.is_locked(now)
    target = row.id if counts else db.select(func.min(StaffUser.id)).scalar_subquery()
    db.session.execute(
        db.update(StaffUser).where(StaffUser.id == target)
        .values(failed_logins=StaffUser.failed_logins + (1 if counts else 0))
        .execution_options(synchronize_session=False))
    db.session.execute(
        db.update(StaffUser)
        .where(StaffUser.id == target, db.literal(counts, db.Boolean),
               StaffUser.failed_logins >= config["STAFF_LOCKOUT_FAILURES"])
        .values(failed_logins=0,
                locked_until=now + timedelta(seconds=config["STAFF_LOCKOUT_SECONDS"]))
        .execution_options(synchronize_session=False))
    if counts:
        log.info("staff login failed for account %s", row.id)


def safe_next(target):
    """Only a path inside the console: never an open redirect to another site."""
    target = target or ""
    parsed = urlparse(target)
    if (parsed.scheme or parsed.netloc or NOT_IN_A_PATH.search(target)
            or not target.startswith("/staff")):
        return url_for("staff.queue")
    return target


def start_session(row):
    session.clear()
    login_user(Staff(row))
    now = utcnow().timestamp()
    session["staff_login_at"] = session["staff_seen"] = now


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("staff/login.html", form=form)
    hit("login")
    if not form.validate():
        return render_template("staff/login.html", form=form, error=REFUSED), 401
    row = check_login(form.email.data, form.password.data)
    if row is None:
        return render_template("staff/login.html", form=form, error=REFUSED), 401
    target = safe_next(form.next.data)
    if row.totp_secret:
        session.clear()
        session["totp_pending"] = {"id": row.id, "at": time.time(), "next": target}
        return redirect(url_for("staff.login_totp"))
    start_session(row)
    return redirect(target)


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    pending = session.get("totp_pending")
    if not pending or time.time() - pending["at"] > TOTP_PENDING_SECONDS:
        session.pop("totp_pending", None)
        return redirect(url_for("staff.login"))
    form = TotpForm()
    if request.method == "GET":
        return render_template("staff/totp.html", form=form)
    hit("login")
    row = db.session.get(StaffUser, pending["id"])
    counter, now = None, utcnow()
    if (form.validate() and row is not None and row.active and row.totp_secret
            and not row.is_locked(now)):
        counter = totp.matching_counter(row.totp_secret, form.code.data, time.time())
    if counter is None or not first_use(row.id, counter):
        if row is not None:
            count_failure(row, now)
            db.session.commit()
        return render_template("staff/totp.html", form=form,
                               error="That code is not right, or was already used."), 401
    login_succeeded(row)
    db.session.commit()
    start_session(row)
    return redirect(pending["next"])


def first_use(staff_id, counter):
    """Refuse a code replayed within its validity window (Redis remembers it for 2 minutes)."""
    try:
        return bool(redis_connection().set(f"dsr:totp:{staff_id}:{counter}", 1, nx=True, ex=120))
    except RedisError:
        return True  # the code itself was right; replay protection is the part we lose


@bp.post("/logout")
def logout():
    # A POST with its CSRF token (checked by CSRFProtect): a link cannot log anyone out.
    # The session lives in a signed cookie, so clearing it here leaves any copy valid: a new
    # session version ends it server-side (as a password change does), on every device.
    db.session.execute(
        db.update(StaffUser).where(StaffUser.id == current_user.id)
        .values(session_version=StaffUser.session_version + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))
