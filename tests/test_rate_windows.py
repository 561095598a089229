"""The limiter's window opens with a client's first hit (real Redis): a burst is never reset
halfway by the clock passing a round number, and Retry-After says when the window closes."""
import time

import pytest

from app.ratelimit import RateLimited, hit


def test_a_window_opens_at_the_first_hit_and_closes_after_its_length(make_app):
    app = make_app(RATE_LIMITS={"status": (2, 2)})
    with app.test_request_context("/"):
        # Start just after a whole second of an even number: with windows aligned to the clock
        # (time // 2) the third hit would land in a fresh window and pass.
        while int(time.time()) % 2 == 0 or time.time() % 1 > 0.7:
            time.sleep(0.05)
        hit("status")
        time.sleep(1.0 - time.time() % 1 + 0.05)  # into the next (even) second
        hit("status")
        with pytest.raises(RateLimited) as refused:
            hit("status")
        assert 1 <= refused.value.retry_after <= 2
        time.sleep(refused.value.retry_after + 0.2)
        hit("status")  # the window closed: a fresh allowance
