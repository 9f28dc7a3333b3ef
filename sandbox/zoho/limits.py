"""Per-organisation API limits (zoho-ref §6) and the request counters tests and benchmarks read.

- `per_window` requests per `window_seconds` (100/min) → 429 code 44;
- the daily allowance → 429 code 45; `X-Rate-Limit-Limit/Remaining/Reset` on every API response
  (Reset = seconds until the daily window rolls over); no Retry-After, as in the reference;
- more than `concurrency` requests in flight → 429 code 1070.

[INF] Rejected requests (any 429) do not consume the minute or daily budget; they are counted separately
in `rejections`. Fixed windows aligned to the epoch (minute) and to local midnight in the org time zone (day).

`max_in_window`: the most API requests (admitted or refused) that arrived within any sliding window of
`window_seconds`, a stricter figure than the fixed windows the limit is enforced on: what the clients of the
org sent, whatever the alignment (the scale benchmark reports it per org).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import Counter, deque
from typing import Any
from zoneinfo import ZoneInfo

from zbsn.sandbox.zoho.clock import SandboxClock
from zbsn.sandbox.zoho.config import RateLimits

CODE_44 = (
    "For security reasons your organization has been blocked as it have exceeded the maximum number "
    "of requests per minute that can originate from an organization."
)
CODE_1070 = (
    "You have reached the maximum number of in process requests allowed. Kindly try again after some time."
)


class RateLimiter:
    """Admission control for one organisation's API requests, plus counters."""

    def __init__(self, clock: SandboxClock, limits: RateLimits, plan_daily: int, time_zone: str) -> None:
        self.lock = threading.Lock()
        self.clock = clock
        self.limits = limits
        self.plan_daily = plan_daily
        self.tz = ZoneInfo(time_zone)
        self.reset_counters()

    def reset_counters(self) -> None:
        """Forget all usage and counters."""
        with self.lock:
            self.window_index = -1
            self.window_count = 0
            self.day_index = -1
            self.day_count = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.requests = 0
            self.by_endpoint: Counter[str] = Counter()
            self.rejections: Counter[int] = Counter()
            self.statuses: Counter[int] = Counter()
            self._recent: deque[float] = deque()  # arrival stamps within the last window
            self.max_in_window = 0

    @property
    def daily_limit(self) -> int:
        """The configured daily allowance, or the plan's."""
        return self.limits.daily_limit if self.limits.daily_limit is not None else self.plan_daily

    def _local_seconds(self) -> float:
        now = self.clock.now()
        offset = now.astimezone(self.tz).utcoffset() or dt.timedelta(0)
        return now.timestamp() + offset.total_seconds()

    def _roll(self) -> float:
        local = self._local_seconds()
        window = math.floor(self.clock.epoch() / self.limits.window_seconds)
        if window != self.window_index:
            self.window_index, self.window_count = window, 0
        day = math.floor(local / self.limits.day_seconds)
        if day != self.day_index:
            self.day_index, self.day_count = day, 0
        return local

    def _arrived(self) -> None:
        now = self.clock.epoch()
        recent = self._recent
        while recent and recent[0] <= now - self.limits.window_seconds:
            recent.popleft()
        recent.append(now)
        self.max_in_window = max(self.max_in_window, len(recent))

    def acquire(self) -> tuple[int | None, str]:
        """Admit a request ((None, "")) or refuse it ((code, message)); `release` an admitted one."""
        with self.lock:
            self._arrived()
            self._roll()
            refusal: tuple[int, str] | None = None
            if self.limits.enabled:
                if self.day_count >= self.daily_limit:
                    refusal = (
                        45,
                        f"The API call for this organization has exceeded the maximum call rate "
                        f"limit of {self.daily_limit}.",
                    )
                elif self.window_count >= self.limits.per_window:
                    refusal = (44, CODE_44)
                elif self.in_flight >= self.limits.concurrency:
                    refusal = (1070, CODE_1070)
            if refusal is not None:
                self.rejections[refusal[0]] += 1
                return refusal
            self.window_count += 1
            self.day_count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return None, ""

    def release(self) -> None:
        """An admitted request finished."""
        with self.lock:
            self.in_flight -= 1

    def record(self, endpoint: str, status: int) -> None:
        """Count an API response by endpoint and status (every API request: 401s and 429s included)."""
        with self.lock:
            self.requests += 1
            self.by_endpoint[endpoint] += 1
            self.statuses[status] += 1

    def headers(self) -> dict[str, str]:
        """The quota headers Zoho sends on every API response."""
        with self.lock:
            local = self._roll()
            reset = self.limits.day_seconds - (local % self.limits.day_seconds)
            return {
                "X-Rate-Limit-Limit": str(self.daily_limit),
                "X-Rate-Limit-Remaining": str(max(0, self.daily_limit - self.day_count)),
                "X-Rate-Limit-Reset": str(max(1, math.ceil(reset))),
            }

    def snapshot(self) -> dict[str, Any]:
        """Counters as plain JSON."""
        with self.lock:
            return {
                "requests": self.requests,
                "by_endpoint": dict(self.by_endpoint),
                "rejections": {str(code): n for code, n in self.rejections.items()},
                "statuses": {str(code): n for code, n in self.statuses.items()},
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "window_used": self.window_count,
                "max_in_window": self.max_in_window,
                "day_used": self.day_count,
                "daily_limit": self.daily_limit,
            }
