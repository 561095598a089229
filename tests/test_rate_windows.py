"""The limiter's window opens with a client's first hit (real Redis): a burst is never reset
halfway by the clock passing a round number, and Retry-After says when the window closes."""
import time

import pytest

from app.ratelimit import RateLimited, hit


def test_a_window_opens_at_the_first_hit_and_closes_after_its_length(make_app):
    app = make_app(RATE_LIMITS={"status": (2, 2)})
    with app.test_request_context("/"):
        # Start 0.4 s into an odd second: with windows aligned to the clock (time // 2) the
        # third hit, in the next (even) second, would land in a fresh window and pass; and the
        # window then has about 1.35 s left, which a TTL rounded to the nearest second would
        # give as 1.
        while int(time.time()) % 2 == 0 or not 0.35 <= time.time() % 1 <= 0.45:
            time.sleep(0.01)
        hit("status")
        time.sleep(1.0 - time.time() % 1 + 0.05)  # into the next (even) second
        hit("status")
        with pytest.raises(RateLimited) as refused:
            hit("status")
        assert 1 <= refused.value.retry_after <= 2
        # Retry-After never tells a client to come back too early (rounded up, not to the
        # nearest second as Redis's TTL is): waiting exactly that long finds a fresh window.
        time.sleep(refused.value.retry_after + 0.02)
        hit("status")
