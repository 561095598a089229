"""API keys: created once and shown once, stored as SHA-256, scoped, revocable.

A key reads `dsr_<prefix>_<secret>`. The prefix is not secret: it finds the row (and names the
key in lists); the whole key's SHA-256 is compared in constant time. Functions here are also what
the staff console calls to manage keys.
"""
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import g, request

from ..extensions import db
from ..models import API_SCOPES, ApiKey, utcnow
from ..ratelimit import client_key, hit
from .errors import ApiError

KEY_PREFIX = "dsr_"
# Writing last_used_at on every call would turn every read into a write; a minute is precise
# enough to see which keys are alive.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(plaintext):
    return hashlib.sha256(plaintext.encode()).hexdigest()


def parse_scopes(scopes):
    """A list or comma-separated string of scopes, checked against API_SCOPES."""
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in cleaned if s not in API_SCOPES]
    if unknown or not cleaned:
        raise ValueError(f"scopes must be a non-empty subset of {', '.join(API_SCOPES)}")
    return cleaned


def create_api_key(name, scopes, created_by):
    """Create a key; returns (ApiKey, plaintext). The plaintext exists only in this return value.

    The caller commits.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("a key needs a name of 1 to 100 characters")
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(name=name, prefix=prefix, key_hash=hash_key(plaintext),
                     scopes=",".join(parse_scopes(scopes)), created_by=created_by)
    db.session.add(api_key)
    db.session.flush()
    return api_key, plaintext


def revoke_api_key(key_id):
    """Revoke a key (idempotent); returns the ApiKey or None. The caller commits."""
    api_key = db.session.get(ApiKey, key_id)
    if api_key is not None and api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    return api_key


def scopes_of(api_key):
    return set(api_key.scopes.split(","))


def _lookup(plaintext):
    if not plaintext.startswith(KEY_PREFIX) or plaintext.count("_") < 2:
        return None
    prefix = plaintext[len(KEY_PREFIX):].split("_", 1)[0]
    api_key = db.session.execute(
        db.select(ApiKey).where(ApiKey.prefix == prefix)
    ).scalar_one_or_none()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(plaintext)):
        return None
    return api_key


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate():
    """The ApiKey behind this request's Bearer token, or ApiError 401."""
    token = _bearer_token()
    api_key = _lookup(token) if token and len(token) < 200 else None
    if api_key is None or api_key.revoked_at is not None:
        # Guessing keys costs a hit on the caller's address, like any other attempt.
        hit("api", key=f"anon:{client_key()}")
        raise ApiError(401, "invalid_api_key",
                       "A valid API key is needed: Authorization: Bearer <key>.")
    hit("api", key=f"key:{api_key.id}")
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        api_key.last_used_at = now
        db.session.commit()
    return api_key


def require_scope(scope):
    """Decorator: authenticate, check `scope`, and leave the key in g.api_key."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            api_key = authenticate()
            if scope not in scopes_of(api_key):
                raise ApiError(403, "insufficient_scope",
                               f"This key does not have the '{scope}' scope.")
            g.api_key = api_key
            return view(*args, **kwargs)

        return wrapper

    return decorator


def actor(api_key):
    """How the audit trail names an API caller."""
    return f"api:{api_key.name}"
