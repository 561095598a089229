"""Redis-backed fixed-window rate limits for intake, resend, verify and status pages.

One INCR per hit, with the window's expiry set when the counter is created. When Redis cannot be
reached the limiter lets the hit through and logs it: refusing every data-subject request while
Redis is down would cost people their rights to stop a flood that is not happening.
"""
import hashlib
import ipaddress
import logging
import time

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
    window_start = int(time.time()) // window
    redis_key = f"dsr:rl:{bucket}:{key or client_key()}:{window_start}"
    try:
        pipe = redis_connection().pipeline()
        # SET NX EX creates the counter with its expiry in one step (EXPIRE NX needs Redis 7).
        pipe.set(redis_key, 0, ex=window, nx=True)
        pipe.incr(redis_key)
        count = pipe.execute()[1]
    except RedisError as exc:
        log.warning("rate limiter unavailable (%s); allowing the request", type(exc).__name__)
        return
    if count > limit:
        raise RateLimited(retry_after=window - int(time.time()) % window)
