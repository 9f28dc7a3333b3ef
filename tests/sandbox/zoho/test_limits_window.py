"""The Zoho sandbox's sliding-window maximum: what the clients of an org sent within any window."""

from __future__ import annotations

from zbsn.sandbox.zoho.clock import SandboxClock
from zbsn.sandbox.zoho.config import RateLimits
from zbsn.sandbox.zoho.limits import RateLimiter


def test_max_in_window_counts_refused_requests_and_slides() -> None:
    clock = SandboxClock()
    limiter = RateLimiter(clock, RateLimits(per_window=3, window_seconds=10.0), 1000, "UTC")
    outcomes = [limiter.acquire()[0] for _ in range(5)]
    assert outcomes == [None, None, None, 44, 44]  # the fixed window admits three
    assert limiter.snapshot()["max_in_window"] == 5  # five arrived within one window
    clock.advance(10.5)
    for _ in range(2):
        limiter.acquire()
    assert limiter.snapshot()["max_in_window"] == 5  # the peak is kept; the new window holds two
    limiter.reset_counters()
    assert limiter.snapshot()["max_in_window"] == 0
