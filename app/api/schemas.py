"""Reading an OpenDSR request body into what intake needs, refusing anything else with a 400.

Pure functions of the body, the clock and a few settings: every refusal is an ApiError with a
stable code and the field it concerns. Messages never echo the value (it may be an email).
"""
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from email_validator import EmailNotValidError, validate_email

from .errors import ApiError
from .opendsr import REGION_BY_REGULATION, TYPE_BY_SUBJECT_REQUEST_TYPE

# A clock a little ahead of ours is not a request from the future.
CLOCK_SKEW = timedelta(minutes=5)
# Older than the longest deadline any regime allows even with its extension (GDPR: 3 months):
# such a submitted_time can only be a wrong clock, a time zone slip or a replay.
MAX_SUBMISSION_AGE = timedelta(days=92)
MAX_CALLBACK_URLS = 5
MAX_CORRECTIONS = 10
SUPPORTED_API_MAJORS = ("1", "2")
# Control characters other than tab and newlines: PostgreSQL refuses NUL, people never type them.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What http.client refuses in a request line (it raises InvalidURL): controls and the space.
_UNSENDABLE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
_API_VERSION = re.compile(r"([0-9]{1,3})(\.[0-9]{1,3}){0,2}")


@dataclass
class Submission:
    subject_request_id: str
    request_type: str
    region: str
    email: str
    submitted_at: datetime
    status_callback_urls: list
    corrections: list | None
    name: str | None
    details: str | None


def invalid(field, message, code="invalid_field"):
    return ApiError(400, code, message, field)


def parse_json_object(raw):
    """The body as a JSON object; NaN, Infinity and absurd nesting are refused like bad JSON."""
    def no_constants(_):
        raise ValueError("not JSON")

    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", "The body is not valid UTF-8 JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    return body


def _string(body, field, *, required=True, max_length=254):
    value = body.get(field)
    if value is None:
        if required:
            raise invalid(field, f"{field} is required.", "missing_field")
        return None
    if not isinstance(value, str):
        raise invalid(field, f"{field} must be a string.")
    if len(value) > max_length or _BAD_CHARS.search(value):
        raise invalid(field, f"{field} is too long or contains control characters.")
    return value


def subject_request_id(value):
    """The canonical (lowercase) form of a UUID string, or None for anything else."""
    # ASCII only: uuid.UUID() goes through int(), which also reads digits like "١" as hex.
    if not isinstance(value, str) or len(value) != 36 or not value.isascii():
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def parse_time(value, field):
    """An RFC 3339 date-time with an offset, as aware UTC."""
    if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
        raise invalid(field, f"{field} must be an RFC 3339 date-time, like 2026-01-31T12:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(field, f"{field} must be an RFC 3339 date-time.") from exc
    if moment.tzinfo is None:
        raise invalid(field, f"{field} needs a time zone offset (Z or +hh:mm).")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError as exc:
        # Near year 1 or 9999 the offset carries the moment beyond what a datetime holds.
        raise invalid(field, f"{field} is out of range once converted to UTC.") from exc


def check_submitted_at(moment, now, max_age):
    if moment > now + CLOCK_SKEW:
        raise invalid("submitted_time", "submitted_time is in the future.",
                      "submitted_time_in_future")
    if moment < now - max_age:
        raise invalid("submitted_time", "submitted_time is too far in the past for a request "
                      "that is still open.", "submitted_time_too_old")


def _email(identities):
    if not isinstance(identities, list) or not identities or len(identities) > 20:
        raise invalid("subject_identities", "subject_identities must be a list of 1 to 20 "
                      "identity objects.", "missing_field" if not identities else "invalid_field")
    emails = []
    for item in identities:
        if not isinstance(item, dict):
            raise invalid("subject_identities", "Each identity must be an object.")
        kind = _string(item, "identity_type", max_length=64)
        value = _string(item, "identity_value", max_length=320)
        form = _string(item, "identity_format", max_length=16)
        # Other identity kinds are ignored, not refused: controllers send the same identities
        # to every processor, and we only know people by email.
        if (kind, form) == ("email", "raw"):
            emails.append(value)
    if len(emails) != 1:
        raise invalid("subject_identities", "Exactly one identity of type email in raw format "
                      "is needed.", "unsupported_identity")
    try:
        return validate_email(emails[0], check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise invalid("subject_identities", "The email identity is not a valid address.") from exc


def callback_url(value, allowed_hosts):
    """Only http(s) URLs with a host and no credentials; the host allow-list when one is set
    (the processor POSTs to these URLs, so without a list they could aim it at internal hosts).
    Only what http.client can send: printable ASCII without spaces. A controller percent-encodes
    a non-ASCII path and writes a non-ASCII host in punycode; we never re-encode its URL, which
    comes back verbatim as status_callback_url in the callback body."""
    if (not isinstance(value, str) or len(value) > 2000 or not value.isascii()
            or _UNSENDABLE_URL_CHARS.search(value)):
        return False
    try:
        parts = urlparse(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    # DNS names: labels of 1 to 63 characters (the idna codec raises on others when connecting).
    if len(host) > 253 or not all(0 < len(label) <= 63
                                  for label in host.removesuffix(".").split(".")):
        return False
    return not allowed_hosts or host.lower() in allowed_hosts


def _callback_urls(body, allowed_hosts):
    urls = body.get("status_callback_urls") or []
    if not isinstance(urls, list) or len(urls) > MAX_CALLBACK_URLS:
        raise invalid("status_callback_urls",
                      f"status_callback_urls must be a list of at most {MAX_CALLBACK_URLS} URLs.")
    if not all(callback_url(url, allowed_hosts) for url in urls):
        raise invalid("status_callback_urls", "Callback URLs must be http(s) URLs on an allowed "
                      "host, without credentials, in printable ASCII (percent-encode the rest).",
                      "invalid_callback_url")
    return list(dict.fromkeys(urls))


def _corrections(extension):
    items = extension.get("corrections")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CORRECTIONS:
        raise invalid("extensions", f"A correction needs 1 to {MAX_CORRECTIONS} corrections "
                      "({field, proposed, problem}) in the extension for our domain.",
                      "missing_field")
    cleaned = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid("extensions", "Each correction must be an object.")
        cleaned.append({"field": _string(item, "field", max_length=100),
                        "problem": _string(item, "problem", required=False, max_length=500) or "",
                        "proposed": _string(item, "proposed", max_length=500)})
    return cleaned


def _api_version(body):
    version = body.get("api_version")
    if version is None:
        return
    match = _API_VERSION.fullmatch(version) if isinstance(version, str) else None
    if not match or match.group(1) not in SUPPORTED_API_MAJORS:
        raise invalid("api_version", "Supported api_version: 2.0 (1.x is accepted too).",
                      "unsupported_api_version")


def read_submission(body, *, now, domain, allowed_hosts, max_age=MAX_SUBMISSION_AGE):
    """Check an OpenDSR request body; returns a Submission or raises ApiError (400)."""
    srid = subject_request_id(body.get("subject_request_id"))
    if srid is None:
        raise invalid("subject_request_id", "subject_request_id must be a UUID string.",
                      "missing_field" if body.get("subject_request_id") is None else
                      "invalid_field")
    kind = _string(body, "subject_request_type", max_length=32)
    if kind not in TYPE_BY_SUBJECT_REQUEST_TYPE:
        raise invalid("subject_request_type", "subject_request_type must be one of "
                      f"{', '.join(TYPE_BY_SUBJECT_REQUEST_TYPE)}.", "unsupported_request_type")
    regulation = _string(body, "regulation", max_length=32)
    if regulation.lower() not in REGION_BY_REGULATION:
        raise invalid("regulation", "regulation must be one of "
                      f"{', '.join(REGION_BY_REGULATION)}.", "unsupported_regulation")
    _api_version(body)
    submitted_at = parse_time(body.get("submitted_time"), "submitted_time")
    check_submitted_at(submitted_at, now, max_age)
    email = _email(body.get("subject_identities"))
    urls = _callback_urls(body, allowed_hosts)
    extensions = body.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise invalid("extensions", "extensions must be an object keyed by processor domain.")
    ours = extensions.get(domain) or {}
    if not isinstance(ours, dict):
        raise invalid("extensions", "Our extension must be an object.")
    request_type = TYPE_BY_SUBJECT_REQUEST_TYPE[kind]
    return Submission(
        subject_request_id=srid, request_type=request_type,
        region=REGION_BY_REGULATION[regulation.lower()], email=email, submitted_at=submitted_at,
        status_callback_urls=urls,
        corrections=_corrections(ours) if request_type == "correction" else None,
        name=_string(ours, "name", required=False, max_length=200),
        details=_string(ours, "details", required=False, max_length=5000),
    )
