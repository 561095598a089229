"""Operator commands given bad input answer with a clear error and a non-zero exit, never a
traceback, and write nothing."""
import pytest
from api_support import make_key
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import StaffUser

PASSWORD = "correct horse battery"


def invoke(app, args, stdin=None):
    result = app.test_cli_runner().invoke(args=args, input=stdin)
    # A click error exits through SystemExit; anything else is a traceback for the operator.
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result


def staff_emails(app):
    with app.app_context():
        return db.session.execute(db.select(StaffUser.email)).scalars().all()


@pytest.mark.parametrize("email", ["", "   ", "not an email", "d\x01@b.example",
                                   "a b@example.com", "admin@localhost",
                                   "a" * 250 + "@example.com"])
def test_staff_create_refuses_what_is_not_an_email_address(app, email):
    result = invoke(app, ["staff", "create", email, "--role", "admin", "--password-stdin"],
                    PASSWORD + "\n")
    assert result.exit_code == 2
    assert "not a valid email address" in result.output
    assert staff_emails(app) == []


def test_staff_create_stores_the_address_as_the_console_does(app):
    result = invoke(app, ["staff", "create", "  Admin@Example.COM ", "--role", "admin",
                          "--password-stdin"], PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert staff_emails(app) == ["admin@example.com"]


def test_a_password_on_stdin_that_is_not_utf8_is_refused(app):
    result = invoke(app, ["staff", "create", "c@b.example", "--password-stdin"],
                    b"longpassword\xff123456\n")
    assert result.exit_code == 1
    assert "the password must be UTF-8 text" in result.output
    assert staff_emails(app) == []


def test_a_utf8_password_on_stdin_is_read_whole(app):
    password = "pässwörd längtig ✓"
    result = invoke(app, ["staff", "create", "c@b.example", "--password-stdin"],
                    (password + "\r\n").encode())
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.execute(db.select(StaffUser)).scalar_one()
        assert check_password_hash(row.password_hash, password)


@pytest.mark.parametrize("now", ["garbage", "2026-13-01T00:00", "9999-12-31T00:00",
                                 "0001-01-01T00:00+01:00", "２０２６-01-31"])
def test_sla_sweep_refuses_a_now_that_is_not_a_usable_date_time(app, now):
    result = invoke(app, ["sla", "sweep", "--now", now])
    assert result.exit_code == 2
    assert "--now" in result.output


@pytest.mark.parametrize("now", ["2026-01-31T09:00", "2026-01-31T09:00+09:00", "2026-01-31"])
def test_sla_sweep_takes_an_iso_now(app, now):
    result = invoke(app, ["sla", "sweep", "--now", now])
    assert result.exit_code == 0, result.output
    assert "digest=" in result.output


@pytest.mark.parametrize("key_id", ["99999999999999999999", "2147483648", "0", "-1", "x"])
def test_api_key_revoke_refuses_an_id_out_of_range(app, key_id):
    result = invoke(app, ["api-key", "revoke", "--", key_id])
    assert result.exit_code == 2
    assert "KEY_ID" in result.output


def test_api_key_revoke_still_revokes_and_names_a_missing_id(app):
    key_id, _ = make_key(app, "read")
    assert invoke(app, ["api-key", "revoke", str(key_id)]).exit_code == 0
    missing = invoke(app, ["api-key", "revoke", "2147483647"])
    assert missing.exit_code == 1
    assert "no API key with id 2147483647" in missing.output
