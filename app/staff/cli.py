"""`flask --app wsgi staff ...` (accounts) and `flask --app wsgi sla sweep`."""
import sys
from datetime import datetime, timezone

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from workflows.sla import sweep

from ..audit import record_admin
from ..extensions import db
from ..models import STAFF_ROLES, StaffUser
from . import totp
from .assignments import release_assignments
from .passwords import MIN_PASSWORD, hash_password

staff_cli = AppGroup("staff", help="Staff console accounts.")
sla_cli = AppGroup("sla", help="Deadline reminders and escalations.")


def read_password(from_stdin):
    """The new password, from one line of standard input (UTF-8: hash_password encodes it)
    or prompted twice."""
    if from_stdin:
        line = sys.stdin.buffer.readline()
        try:
            return line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise click.ClickException("the password must be UTF-8 text") from exc
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def checked_email(email):
    """The address as the console's staff form takes it (stripped, lowercased), once
    email_validator accepts it without a DNS check."""
    email = email.strip()
    try:
        if len(email) > 254:
            raise EmailNotValidError("The address is longer than 254 characters.")
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise click.BadParameter(f"not a valid email address, like name@example.com ({exc})",
                                 param_hint="EMAIL") from exc
    return email.lower()


def find(email):
    row = db.session.execute(
        db.select(StaffUser).where(StaffUser.email == email.strip().lower())).scalar_one_or_none()
    if row is None:
        raise click.ClickException(f"no staff account {email}")
    return row


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(STAFF_ROLES), default="agent", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_create(email, role, password_stdin):
    """Create a staff account; the password is prompted (never an argument: shell history)."""
    email = checked_email(email)
    password = read_password(password_stdin)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD} characters")
    row = StaffUser(email=email, role=role, password_hash=hash_password(password))
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise click.ClickException(f"{email} already has an account") from exc
    record_admin("cli", "created staff", f"staff:{row.id}", f"role {role}")
    db.session.commit()
    click.echo(f"{role} {email} created")


@staff_cli.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_password(email, password_stdin):
    """Set a new password; every open session of the account ends."""
    row = find(email)
    password = read_password(password_stdin)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD} characters")
    row.password_hash = hash_password(password)
    row.session_version += 1
    row.failed_logins, row.locked_until = 0, None
    record_admin("cli", "set password of staff", f"staff:{row.id}")
    db.session.commit()
    click.echo(f"password of {row.email} changed; its sessions are logged out")


@staff_cli.command("totp")
@click.argument("email")
@click.option("--disable", is_flag=True, help="Remove the second factor.")
def staff_totp(email, disable):
    """Turn on TOTP for an account and print its secret once (type it into the app)."""
    row = find(email)
    if disable:
        row.totp_secret = None
        record_admin("cli", "reset second factor of staff", f"staff:{row.id}")
        db.session.commit()
        click.echo(f"TOTP disabled for {row.email}")
        return
    row.totp_secret = totp.new_secret()
    row.session_version += 1
    record_admin("cli", "set second factor of staff", f"staff:{row.id}")
    db.session.commit()
    click.echo(f"secret: {row.totp_secret}")
    click.echo(totp.provisioning_uri(row.totp_secret, row.email, "DSR Portal"))


@staff_cli.command("unlock")
@click.argument("email")
def staff_unlock(email):
    """Lift a lockout before its time runs out."""
    row = find(email)
    row.failed_logins, row.locked_until = 0, None
    record_admin("cli", "unlocked staff", f"staff:{row.id}")
    db.session.commit()
    click.echo(f"{row.email} unlocked")


@staff_cli.command("deactivate")
@click.argument("email")
def staff_deactivate(email):
    """Stop an account from logging in (kept: the audit trail names it)."""
    row = find(email)
    row.active = False
    row.session_version += 1
    released = release_assignments(row, "cli")
    record_admin("cli", "deactivated staff", f"staff:{row.id}")
    db.session.commit()
    click.echo(f"{row.email} deactivated; {released} open request(s) unassigned")


def iso_moment(ctx, param, value):
    """--now as an aware UTC datetime (a bare time means UTC), or a usage error."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter("must be an ISO date-time, like 2026-01-31T09:00") from exc
    if moment.year > 9998:  # the sweep looks 7 days ahead
        raise click.BadParameter("must be before the year 9999")
    return moment


@sla_cli.command("sweep")
@click.option("--now", default=None, callback=iso_moment,
              help="Pretend it is this ISO time (UTC unless it has an offset), for testing.")
def sla_sweep(now):
    """Send due reminders, overdue escalations and the daily digest (each once)."""
    counts = sweep(now)
    click.echo(" ".join(f"{kind}={count}" for kind, count in counts.items()))
