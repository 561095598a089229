"""RFC 6238 time-based one-time passwords (the codes authenticator apps show): pure functions.

Written with hmac/hashlib/base64 rather than a dependency: the algorithm is thirty lines and
the console is the only user.
"""
import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6


def new_secret():
    """A random 160-bit secret in base32, the form authenticator apps accept."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret):
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def code_at(secret, counter):
    """RFC 4226 HOTP value for one counter: HMAC-SHA1, dynamic truncation, 6 digits."""
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** DIGITS).zfill(DIGITS)


def counter_for(unix_time):
    return int(unix_time) // STEP_SECONDS


def matching_counter(secret, code, unix_time, window=1):
    """The time step `code` belongs to (allowing one step of clock drift), or None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    now = counter_for(unix_time)
    for counter in range(now - window, now + window + 1):
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None


def provisioning_uri(secret, account, issuer):
    """otpauth:// URI an authenticator app can import (typed or pasted: no QR dependency)."""
    label = quote(f"{issuer}:{account}")
    return (f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
            f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}")
