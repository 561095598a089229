"""create_app: wires settings, extensions, pages, security headers and commands."""
import logging
import re

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import cli, errors, i18n, locales, metrics, security, staff
from .config import ROOT, from_env
from .deadlines import local_date
from .extensions import configure_sqlite, csrf, db, migrate
from .models import MAX_ROW_ID
from .queue import redis_connection

# Paths that carry a signed token, and query values that can be personal data (the staff
# queue's search box, a login's `next` that carries it): replaced before a log line is written.
_TOKEN_IN_PATH = re.compile(r"/(verify|status|download)/[^/\s?\"]+")
_PERSONAL_QUERY = re.compile(r"([?&](?:q|next)=)[^&\s\"]*")


def _redact(value):
    if not isinstance(value, str):
        return value
    return _PERSONAL_QUERY.sub(r"\1<redacted>", _TOKEN_IN_PATH.sub(r"/\1/<token>", value))


class RowId(IntegerConverter):
    """`<int:...>` in every route: a number an Integer primary key can hold, else a 404.

    Werkzeug's own takes any size; a 20-digit id then reached the database and failed there
    (OverflowError on SQLite, out of range for PostgreSQL's int4): a 500 instead of not found.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class RedactTokens(logging.Filter):
    def filter(self, record):
        record.msg = _redact(record.msg)
        if isinstance(record.args, dict):
            # gunicorn's access log formats from a mapping of atoms ("r", "U", ...); it is
            # changed in place so that its class (which answers "-" for absent atoms) stays.
            for key, value in record.args.items():
                record.args[key] = _redact(value)
        elif record.args:
            record.args = tuple(_redact(a) for a in (
                record.args if isinstance(record.args, tuple) else (record.args,)))
        return True


def create_app(config=None):
    """Build the app. `config` overrides settings read from the environment (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(from_env())
    if config:
        app.config.update(config)
    app.instance_path = app.config["INSTANCE_DIR"]
    app.url_map.converters["int"] = RowId  # before any route is added
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    configure_sqlite(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    # Before CSRF: the UTF-8 check must read the raw body before anything parses the form.
    security.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    for name in ("werkzeug", "gunicorn.access", "rq.worker"):
        logging.getLogger(name).addFilter(RedactTokens())
    # Flask's own "Exception on <path>" for an unhandled error: the path may carry a token.
    app.logger.addFilter(RedactTokens())

    from .api import views as api
    from .portal import bp as portal_bp

    app.register_blueprint(portal_bp)
    api.init_app(app)
    staff.init_app(app)  # blueprint, flask-login, `staff` and `sla` commands
    if app.config["ENV_NAME"] == "development":
        from .devmail import bp as devmail_bp

        app.register_blueprint(devmail_bp)
    elif app.config["ENV_NAME"] == "production" and not app.config["SESSION_COOKIE_SECURE"]:
        app.logger.warning("BASE_URL is not https: session cookies are sent without Secure")

    app.add_template_filter(format_local_date, "local_date")
    app.add_template_filter(locales.local_moment, "local_moment")
    app.add_template_filter(megabytes, "megabytes")
    app.add_url_rule("/healthz", "healthz", healthz)
    metrics.init_app(app)
    return app


def format_local_date(moment, zone_name):
    """The person's calendar date for a UTC moment, written in their language."""
    return locales.long_date(local_date(moment, zone_name))


def megabytes(size):
    """A size for people, in MB with one decimal; never "0.0" for something that is there."""
    if not size:
        return "0"
    return f"{max(size / 1048576, 0.1):.1f}"


def healthz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        checks["database"] = type(exc).__name__
    try:
        redis_connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = type(exc).__name__
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
