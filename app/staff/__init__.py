"""The staff console: login, the triage queue, request pages and their actions, metrics, and
the admin pages for staff accounts and API keys.

Deny by default: a blueprint-level check requires a logged-in staff member for every /staff
route except the login pages, and admin-only views are marked with `admin_only`, so a new
route someone forgets to protect is still closed to the public.
"""
from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from werkzeug.exceptions import Forbidden, Unauthorized

from ..models import utcnow
from .cli import sla_cli, staff_cli

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()

# Endpoints reachable without a session: logging in, and its second-factor step.
PUBLIC_ENDPOINTS = {"staff.login", "staff.login_totp"}
DEFAULTS = {
    "STAFF_IDLE_SECONDS": 30 * 60,       # a console left open logs itself out
    "STAFF_SESSION_SECONDS": 12 * 3600,  # one working day, then log in again
    "STAFF_LOCKOUT_FAILURES": 5,
    "STAFF_LOCKOUT_SECONDS": 15 * 60,
    "STAFF_PAGE_SIZE": 50,
    "STAFF_UPLOAD_BYTES": 16 * 1024 * 1024,
}


def admin_only(view):
    """Mark a view as admin-only; `require_staff` enforces it (403 for agents)."""
    view.staff_role = "admin"
    return view


@bp.before_request
def require_staff():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated or session_expired():
        logout_user()
        if request.method == "GET":
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        raise Unauthorized("Log in to the staff console first.")
    session["staff_seen"] = utcnow().timestamp()
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "staff_role", "agent") == "admin" and current_user.role != "admin":
        raise Forbidden("Only admins can open this page.")
    return None


def session_expired():
    """Idle and absolute limits, kept in the signed session cookie."""
    now = utcnow().timestamp()
    config = current_app.config
    seen, started = session.get("staff_seen", 0), session.get("staff_login_at", 0)
    return (now - seen > config["STAFF_IDLE_SECONDS"]
            or now - started > config["STAFF_SESSION_SECONDS"])


def allow_large_upload():
    """Manual steps accept an export file: lift the 64 KiB form limit for that one endpoint.

    Runs before CSRF protection, which reads (and would refuse) the body first.
    """
    if request.endpoint == "staff.action" and request.view_args.get("action") == "resolve":
        request.max_content_length = current_app.config["STAFF_UPLOAD_BYTES"]


def init_app(app):
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.config["RATE_LIMITS"].setdefault("login", (10, 600))
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "staff.login"
    app.before_request_funcs.setdefault(None, []).insert(0, allow_large_upload)
    app.register_blueprint(bp)
    app.cli.add_command(staff_cli)
    app.cli.add_command(sla_cli)


from . import account, actions, admin, auth, exports, metrics, views  # noqa: E402,F401  (routes register on bp)
