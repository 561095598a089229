"""API errors: JSON `{"error": {"code": "stable_code", "message": "..."}}` with the right 4xx.

The codes are a contract with callers (docs/API.md lists them); messages may change. Nothing in a
message repeats what the caller sent: values can be personal data.
"""
import logging

from flask import jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..ratelimit import RateLimited

log = logging.getLogger(__name__)
API_PREFIX = "/api/"

# Stable codes for the HTTP errors Werkzeug raises before or around our views.
HTTP_CODES = {
    400: "bad_request",
    401: "invalid_api_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    def __init__(self, status, code, message, field=None):
        super().__init__(code)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(status, code, message, field=None, headers=None):
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify(error=body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def api_error(exc):
    headers = {"WWW-Authenticate": 'Bearer realm="dsr"'} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, exc.field, headers)


def http_error(exc):
    headers = {}
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    code = HTTP_CODES.get(exc.code, "http_error")
    status = exc.code if exc.code in HTTP_CODES else 400
    if exc.code >= 500:
        status, code = exc.code, "server_error"
    return error_response(status, code, exc.description or exc.name, headers=headers)


def rate_limited(exc):
    return error_response(429, "rate_limited", "Too many requests for this key; slow down.",
                          headers={"Retry-After": str(exc.retry_after)})


def database_down(exc):
    db.session.rollback()
    log.error("database unavailable on %s %s: %s", request.method, request.url_rule,
              type(exc).__name__)
    return error_response(503, "unavailable", "Temporarily unavailable; nothing was saved.",
                          headers={"Retry-After": "30"})


def for_api_paths(page_handler):
    """Wrap the app's HTML handler for errors raised before routing (unknown path, wrong
    method): Flask cannot know those belong to the API blueprint, the path can."""

    def handler(exc):
        if request.path.startswith(API_PREFIX):
            return http_error(exc)
        return page_handler(exc)

    return handler


def init_blueprint(bp):
    bp.register_error_handler(ApiError, api_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(RateLimited, rate_limited)
    bp.register_error_handler(OperationalError, database_down)
