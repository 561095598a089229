"""Signed links: itsdangerous with one salt per purpose, plus server-side single-use nonces.

A link token carries the request reference and, for single-use purposes, a random nonce whose
SHA-256 is stored in `link_nonces`. Consuming is one conditional UPDATE, so two clicks racing
cannot both succeed.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .extensions import db
from .models import LinkNonce, utcnow

SALTS = {"verify": "dsr.verify.v1", "status": "dsr.status.v1", "download": "dsr.download.v1"}


class LinkError(Exception):
    """A link that cannot be honoured; `kind` picks the page and status code."""

    def __init__(self, kind, reference=None):
        super().__init__(kind)
        self.kind = kind          # "invalid", "expired" or "used"
        self.reference = reference


@dataclass
class LinkPayload:
    reference: str
    nonce: str | None
    kind: str | None = None


def signing_keys(config):
    """Every key that may have signed something still out there, the current one first."""
    return [config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])]


def _serializer(purpose):
    # itsdangerous signs with the last key and accepts any of them: links mailed before a
    # rotation keep working until they expire.
    keys = signing_keys(current_app.config)[::-1]
    return URLSafeTimedSerializer(keys, salt=SALTS[purpose])


def email_hash(email, secret_key):
    """The keyed hash a minimised request keeps instead of its email (staff search uses it)."""
    return hmac.new(secret_key.encode(), email.encode(), "sha256").hexdigest()


def hash_nonce(nonce):
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_link_token(purpose, reference, nonce=None, kind=None):
    data = {"r": reference}
    if nonce is not None:
        data["n"] = nonce
    if kind is not None:
        data["k"] = kind
    return _serializer(purpose).dumps(data)


def issue_verify_token(data_request):
    """A new single-use verify token; the nonce row joins the caller's transaction."""
    nonce = secrets.token_urlsafe(24)
    ttl = current_app.config["VERIFY_TTL_SECONDS"]
    db.session.add(LinkNonce(
        request_id=data_request.id, purpose="verify", nonce_hash=hash_nonce(nonce),
        expires_at=utcnow() + timedelta(seconds=ttl),
    ))
    return make_link_token("verify", data_request.reference, nonce)


def _payload(data):
    if not isinstance(data, dict) or not isinstance(data.get("r"), str):
        return None
    nonce, kind = data.get("n"), data.get("k")
    if any(v is not None and not isinstance(v, str) for v in (nonce, kind)):
        return None
    return LinkPayload(data["r"], nonce, kind)


def read_link_token(purpose, token, max_age):
    """Check signature, purpose and age; raise LinkError naming what is wrong."""
    serializer = _serializer(purpose)
    try:
        payload = _payload(serializer.loads(token, max_age=max_age))
    except SignatureExpired as exc:
        # The signature was good, so the reference in it is trustworthy: use it to offer a new link.
        try:
            stale = _payload(serializer.load_payload(exc.payload))
        except BadSignature:
            stale = None
        raise LinkError("expired", stale.reference if stale else None) from exc
    except (BadSignature, UnicodeError, ValueError) as exc:
        raise LinkError("invalid") from exc
    if payload is None:
        raise LinkError("invalid")
    return payload


def nonce_is_live(purpose, nonce):
    row = db.session.execute(
        db.select(LinkNonce).where(LinkNonce.nonce_hash == hash_nonce(nonce),
                                   LinkNonce.purpose == purpose)
    ).scalar_one_or_none()
    if row is None:
        return None
    return row if row.used_at is None and row.expires_at > utcnow() else False


def consume_nonce(purpose, nonce):
    """Mark a nonce used; True only for the one caller that flipped it (atomic UPDATE)."""
    now = utcnow()
    result = db.session.execute(
        db.update(LinkNonce)
        .where(LinkNonce.nonce_hash == hash_nonce(nonce), LinkNonce.purpose == purpose,
               LinkNonce.used_at.is_(None), LinkNonce.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


LINK_PATHS = {"status": "/status/", "download": "/download/"}


def public_link(purpose, reference, kind=None):
    """A link for an email, built from BASE_URL (jobs have no request to take a host from)."""
    token = make_link_token(purpose, reference, kind=kind)
    return current_app.config["BASE_URL"] + LINK_PATHS[purpose] + token
