"""Redis-backed rate limits for intake, resend, verify, status, login and the API.

A window opens with a client's first hit and lasts its length: one counter per client and
bucket, created with its expiry, one INCR per hit. Windows aligned to the clock would let a
client spend two allowances across a boundary (the last second of one, the first of the next),
and would reset a counter in the middle of anyone's burst. When Redis cannot be
reached the limiter lets the hit through and logs it: refusing every data-subject request while
Redis is down would cost people their rights to stop a flood that is not happening.
"""
import hashlib
import ipaddress
import logging
import math

from flask import current_app, request
from redis.exceptions import RedisError

from .queue import redis_connection

log = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__("rate limited")
        self.retry_after = retry_after


def client_key():
    """The client's address, hashed: counters in Redis should not be a list of IP addresses.

    An IPv6 client counts by its /64, the block one subscriber gets: counting single
    addresses would give anyone 2**64 fresh counters.
    """
    addr = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6 and ip.ipv4_mapped is None:
        addr = str(ipaddress.ip_network(f"{addr}/64", strict=False))
    pepper = current_app.config["SECRET_KEY"][:16]
    return hashlib.sha256(f"{pepper}:{addr}".encode()).hexdigest()[:32]


def hit(bucket, key=None):
    """Count a hit on `bucket` for this client (or `key`); raise RateLimited past the limit."""
    limit, window = current_app.config["RATE_LIMITS"][bucket]
    redis_key = f"dsr:rl:{bucket}:{key or client_key()}"
    try:
        # One MULTI/EXEC: SET NX EX creates the counter with its expiry in one step (EXPIRE
        # NX needs Redis 7), so a counter never lives without one.
        pipe = redis_connection().pipeline()
        pipe.set(redis_key, 0, ex=window, nx=True)
        pipe.incr(redis_key)
        pipe.pttl(redis_key)
        _, count, left_ms = pipe.execute()
    except RedisError as exc:
        log.warning("rate limiter unavailable (%s); allowing the request", type(exc).__name__)
        return
    if count > limit:
        # Whole seconds, rounded up: Redis's TTL rounds to the nearest second, and a client
        # told to come back a moment too early is refused again.
        raise RateLimited(retry_after=math.ceil(left_ms / 1000) if left_ms > 0 else window)
