"""The Zoho budget's settings, its live figures, and what it reads off Zoho's responses (zoho-ref §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import httpx


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """Limits and retry policy; shrink `window_s` (and the sandbox's) to run benchmarks fast."""

    per_window_limit: int = 100  # Zoho: 100 requests per minute per org (code 44 beyond)
    window_s: float = 60.0
    # The org's daily cap as the operator knows it (plan-dependent); shown until Zoho's own
    # X-Rate-Limit-Limit header says otherwise, which then wins.
    daily_limit: int | None = None
    # below Zoho's 10 (paid plans; 5 on Free) to leave room for others; with a shared store (`budget_shared`)
    # it bounds the requests in flight of every process of the deployment together
    max_concurrency: int = 5
    daily_wait_limit_s: float = 900.0  # longer code-45 pauses raise ZohoDailyLimitExceeded instead
    max_429_retries: int = 20  # per request, across codes 44/45/1070
    concurrency_retry_s: float = 0.5  # base delay after code 1070 (jittered, doubled per repeat)
    # transient failures (5xx, timeouts, drops) per request: 10 keeps a run alive at a 30 % failure rate
    # (0.3^10 ≈ 6e-6 per request); 5 lost about one request in 400 there and failed the run
    retry_attempts: int = 10
    retry_wait_initial_s: float = 0.5
    retry_wait_max_s: float = 15.0
    foreign_headroom: int = 2  # extra requests kept free per window when others share the org
    probe_after_windows: int = 3  # clean windows before a lowered cap is raised again
    # [INF] whether Zoho counts a refused (429) request against the window is undocumented: counting it is
    # the safe choice; the sandbox does not count them.
    count_rejected: bool = True
    # Space admissions evenly (window / effective limit apart) instead of spending a window in one burst:
    # the org's traffic stays smooth, so other clients of the org and our estimate of them are not upset.
    # After an idle spell up to `pace_burst` requests (default: half the limit) go at once.
    pace_evenly: bool = True
    pace_burst: int | None = None


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """Live figures for the TUI's rate gauge (the deployment's, when the budget is shared)."""

    used_this_window: int
    per_window_limit: int
    window_seconds: float
    remaining_today: int | None
    daily_limit: int | None
    reset_at: datetime | None
    queue_depth: int
    in_flight: int
    paused_until: datetime | None
    pause_reason: str | None
    total_requests: int
    total_429_by_code: dict[int, int] = field(default_factory=dict)
    effective_limit: int = 0  # our share of the window after others' estimated use
    others_per_window: float = 0.0  # estimated requests per window by other clients of the org
    concurrency_limit: int = 0  # our in-flight cap now (lowered after code 1070)
    # True: used_this_window and in_flight count every process of the deployment (the shared store's
    # figures as of this process's last request), not only this one's
    shared: bool = False
    own_this_window: int = 0  # this process's requests in the window (completed or in flight), of `used`


class TransientResponse(Exception):
    """A response worth asking again for (5xx, a truncated body)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def is_transient(exc: Exception) -> bool:
    """A 5xx, a garbled body or a transport error: worth another attempt of an idempotent request."""
    return isinstance(exc, TransientResponse | httpx.TransportError)


def header_int(response: httpx.Response, name: str) -> int | None:
    """An integer header (Zoho sends some as floats), or None."""
    value = response.headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def is_json(response: httpx.Response) -> bool:
    """Whether the body parses as JSON."""
    try:
        response.json()
    except ValueError:
        return False
    return True


def error_code(response: httpx.Response) -> int | None:
    """Zoho's `code` in an error body, if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
