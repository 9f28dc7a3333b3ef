"""A per-organisation request budget shared by every task and client of that org (zoho-ref §6).

Scheduling is proactive, with a sliding-window log: a request is admitted only while fewer than the
effective limit of our requests are *in flight or completed within the last window*. A request's entry is
stamped when its response arrives (an upper bound of when Zoho counted it), and counted as present while in
flight, so no window of Zoho's (fixed or sliding, whatever the latency) can hold more than the limit of ours.

Other clients of the same org are seen through the daily `X-Rate-Limit-Remaining` header: it falls by every
request of the org, so its fall minus our own responses estimates the others' use per window, and our limit
shrinks by that much. Without the header, a 429 code 44 lowers our cap (multiplicative decrease) and clean
windows raise it slowly again (additive probe).

429 handling: code 44 pauses the whole org for a window; code 45 pauses it until `X-Rate-Limit-Reset`
(raising `ZohoDailyLimitExceeded` when that is further than `daily_wait_limit_s`); code 1070 retries after a
short jittered delay. 5xx, timeouts, dropped connections and unreadable bodies are retried with stamina's
jittered exponential backoff for idempotent requests, a bounded number of times.

Across processes: with `shared` (a `budget_shared.SharedWindow`, e.g. the database's `budget_store`), each
request is also admitted by the deployment's one account of the org after the in-process checks, so every
process of a deployment together stays under the limit and Zoho's in-flight cap; a code 44 or 45 pauses the
org for all of them, and the others' estimate counts only clients outside the deployment. The budget may be
used from several event loops (`loop_local`); its counters are guarded for threads.

(Over 400 lines: admission, pacing, the shared window and the 429 codes act on one state; its settings,
figures and response helpers live in `budget_types`, the shared window's contract in `budget_shared`.)
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import random
import threading
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import stamina

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.zoho.budget_shared import DailyHeaders, SharedFigures, SharedWindow
from zbsn.core.zoho.budget_types import (
    BudgetConfig,
    BudgetSnapshot,
    TransientResponse,
    error_code,
    header_int,
    is_json,
    is_transient,
)
from zbsn.core.zoho.errors import ZohoDailyLimitExceeded, ZohoRateLimited, ZohoTransportError
from zbsn.core.zoho.loop_local import LoopLocal

Sleep = Callable[[float], Awaitable[None]]
BeforeWait = Callable[[float], Awaitable[Any]]
SHARED_PAUSE = "paused for every process of the deployment"


class _Slot:
    __slots__ = ("daily", "lease", "refused", "weight")

    def __init__(self) -> None:
        self.weight = 1
        self.refused = 0  # refused requests not to be counted in the window (count_rejected=False)
        self.lease: str | None = None  # the shared window's name for this flight
        self.daily: DailyHeaders | None = None


_current_slot: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar("zoho_budget_slot", default=None)


class OrgBudget:
    """The request budget of one Zoho organisation; get it from a `BudgetRegistry` so tasks share it."""

    def __init__(
        self,
        organization_id: str,
        config: BudgetConfig | None = None,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        shared: SharedWindow | None = None,
    ) -> None:
        self.organization_id = organization_id
        self.config = config or BudgetConfig()
        self.shared = shared
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep
        self._loops = LoopLocal()  # FIFO admission lock and change event, per event loop
        self._guard = threading.Lock()  # the counters, when loops of several threads use the budget
        self._done: deque[float] = deque()  # monotonic stamps of completed requests, ascending
        self._in_flight_weight = 0
        self._in_flight = 0
        self._queued = 0
        self._paused_until: float | None = None
        self._pause_reason: str | None = None
        self._cap = self.config.per_window_limit
        self._last_cap_change = self._clock.monotonic()
        self._next_admission = 0.0  # monotonic time before which pacing admits nothing
        self._concurrency_cap = self.config.max_concurrency  # lowered after code 1070, probed back up
        self._last_concurrency_change = self._clock.monotonic()
        self._remaining_samples: deque[tuple[float, int, int]] = deque()  # (t, remaining, our responses)
        self._others_per_window = 0.0
        self._responses_seen = 0
        self._shared_figures: SharedFigures | None = None
        self.total_requests = 0
        self.total_429_by_code: Counter[int] = Counter()
        self.daily_limit: int | None = self.config.daily_limit
        self.remaining_today: int | None = None
        self._reset_at: datetime | None = None

    # -- figures --------------------------------------------------------------------------------------------
    def _expire(self, now: float) -> None:
        horizon = now - self.config.window_s
        while self._done and self._done[0] <= horizon:
            self._done.popleft()

    def _used(self, now: float) -> int:
        self._expire(now)
        return len(self._done) + self._in_flight_weight

    def effective_limit(self) -> int:
        """How many of our requests a window may hold now: the limit, minus others' use, capped by 429s."""
        limit = self.config.per_window_limit
        now = self._clock.monotonic()
        if (
            self._cap < limit
            and now - self._last_cap_change >= self.config.probe_after_windows * self.config.window_s
        ):
            self._cap = min(limit, self._cap + max(1, limit // 50))
            self._last_cap_change = now
        allowed = min(limit, self._cap)
        if self._others_per_window >= 0.5:
            allowed = min(allowed, limit - math.ceil(self._others_per_window) - self.config.foreign_headroom)
        return max(1, allowed)

    def concurrency_limit(self) -> int:
        """How many of our requests may be in flight now (lowered after code 1070, then probed back up)."""
        now = self._clock.monotonic()
        wait = self.config.probe_after_windows * self.config.window_s
        if (
            self._concurrency_cap < self.config.max_concurrency
            and now - self._last_concurrency_change >= wait
        ):
            self._concurrency_cap += 1
            self._last_concurrency_change = now
        return self._concurrency_cap

    def snapshot(self) -> BudgetSnapshot:
        """The budget's live figures (the deployment's window and flights when shared)."""
        now = self._clock.monotonic()
        paused = self._paused_until if self._paused_until is not None and self._paused_until > now else None
        shared = self._shared_figures
        return BudgetSnapshot(
            used_this_window=shared.used if shared is not None else self._used(now),
            per_window_limit=self.config.per_window_limit,
            window_seconds=self.config.window_s,
            remaining_today=self.remaining_today,
            daily_limit=self.daily_limit,
            reset_at=self._reset_at,
            queue_depth=self._queued,
            in_flight=shared.in_flight if shared is not None else self._in_flight,
            paused_until=self._clock.now() + timedelta(seconds=paused - now) if paused is not None else None,
            pause_reason=self._pause_reason if paused is not None else None,
            total_requests=self.total_requests,
            total_429_by_code=dict(self.total_429_by_code),
            effective_limit=self.effective_limit(),
            others_per_window=self._others_per_window,
            concurrency_limit=self.concurrency_limit(),
            shared=shared is not None,
            own_this_window=self._used(now),
        )

    # -- admission ------------------------------------------------------------------------------------------
    def _notify(self) -> None:
        self._loops.notify()

    async def _wait_change(self, seconds: float) -> None:
        event = self._loops.get().changed
        try:
            await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            pass

    def _check_daily(self, now: float) -> None:
        if self._paused_until is not None and self._paused_until - now > self.config.daily_wait_limit_s:
            raise ZohoDailyLimitExceeded(
                f"the daily API quota of organisation {self.organization_id} is spent",
                reset_at=self._reset_at,
            )

    def _try_admit(self, now: float, new_flight: bool) -> bool:
        """Count one more request in flight if the window (and, for a new flight, the cap) has room."""
        with self._guard:
            room_in_flight = not new_flight or self._in_flight < self.concurrency_limit()
            limit = self.effective_limit()
            if self._used(now) >= limit or not room_in_flight:
                return False
            if new_flight and self.config.pace_evenly:
                # virtual scheduling (GCRA): a late wake-up does not push later admissions back, and an
                # idle spell banks at most `burst` admissions
                spacing = self.config.window_s / limit
                burst = self.config.pace_burst if self.config.pace_burst is not None else limit // 2
                self._next_admission = max(self._next_admission, now - max(burst, 1) * spacing) + spacing
            self._in_flight_weight += 1
            if new_flight:
                self._in_flight += 1
            return True

    async def _admit_locally(self, before_wait: BeforeWait | None, *, new_flight: bool = True) -> None:
        while True:
            now = self._clock.monotonic()
            self._check_daily(now)
            if self._paused_until is not None and self._paused_until > now:
                pause = self._paused_until - now
                if before_wait is not None:
                    await before_wait(pause)
                await self._sleep(pause)
                continue
            if new_flight and self.config.pace_evenly and now < self._next_admission:
                await self._sleep(self._next_admission - now)
                continue
            if self._try_admit(now, new_flight):
                return
            # wait until the oldest completed entry leaves the window, or an in-flight one completes
            timeout = (self._done[0] + self.config.window_s - now) if self._done else self.config.window_s
            await self._wait_change(timeout)

    async def _admit_shared(self, before_wait: BeforeWait | None, extra_for: str | None = None) -> str | None:
        """The deployment's admission (see the module docstring); the lease that names the flight."""
        if self.shared is None:
            return None
        while True:
            admission = await self.shared.admit(
                self.organization_id,
                limit=self.effective_limit(),
                concurrency=self.concurrency_limit(),
                window_s=self.config.window_s,
                extra_for=extra_for,
            )
            self._shared_figures = admission.figures
            if admission.lease is not None:
                return admission.lease
            wait = admission.wait_s
            if admission.figures.paused_for > 0:
                self._pause(admission.figures.paused_for, admission.figures.pause_reason or SHARED_PAUSE)
                self._check_daily(self._clock.monotonic())
                if before_wait is not None:
                    await before_wait(admission.figures.paused_for)
                wait = admission.figures.paused_for
            await self._sleep(max(wait, 0.0))

    def _release_local(self, weight: int, counted: int) -> None:
        stamp = self._clock.monotonic()
        with self._guard:
            self._in_flight -= 1
            self._in_flight_weight -= weight
            self._done.extend([stamp] * counted)
        self._notify()

    @asynccontextmanager
    async def _slot(self, before_wait: BeforeWait | None) -> AsyncIterator[_Slot]:
        slot = _Slot()
        self._queued += 1
        try:
            async with self._loops.get().admission:
                await self._admit_locally(before_wait)
                try:
                    slot.lease = await self._admit_shared(before_wait)
                except BaseException:
                    self._release_local(1, 0)
                    raise
        finally:
            self._queued -= 1
        self.total_requests += 1
        token = _current_slot.set(slot)
        try:
            yield slot
        finally:
            _current_slot.reset(token)
            counted = slot.weight - slot.refused
            self._release_local(slot.weight, counted)
            if self.shared is not None and slot.lease is not None:
                figures = await self.shared.complete(
                    self.organization_id,
                    slot.lease,
                    counted=counted,
                    window_s=self.config.window_s,
                    daily=slot.daily,
                )
                self._shared_figures = figures
                if slot.daily is not None and slot.daily.remaining is not None:
                    self._estimate_others(self._clock.monotonic(), slot.daily.remaining, figures.total)

    async def reserve_extra(self) -> None:
        """Admit one more request inside the current slot (the auth flow's retry after a token refresh)."""
        slot = _current_slot.get()
        if slot is None:
            return
        async with self._loops.get().admission:
            await self._admit_locally(None, new_flight=False)  # rides in the current slot's flight
            slot.weight += 1
            if slot.lease is not None:
                try:
                    await self._admit_shared(None, extra_for=slot.lease)
                except BaseException:
                    slot.weight -= 1
                    with self._guard:
                        self._in_flight_weight -= 1
                    raise
            self.total_requests += 1

    # -- responses ------------------------------------------------------------------------------------------
    def _observe(self, response: httpx.Response, slot: _Slot) -> None:
        self._responses_seen += 1
        limit = header_int(response, "X-Rate-Limit-Limit")
        remaining = header_int(response, "X-Rate-Limit-Remaining")
        reset = header_int(response, "X-Rate-Limit-Reset")
        slot.daily = DailyHeaders(remaining=remaining, limit=limit, reset_s=reset)
        if limit is not None:
            self.daily_limit = limit
        if reset is not None:
            self._reset_at = self._clock.now() + timedelta(seconds=reset)
        if remaining is None:
            return
        self.remaining_today = remaining
        if self.shared is None:  # shared: estimated against the deployment's count once it is known
            self._estimate_others(self._clock.monotonic(), remaining, self._responses_seen)
        if remaining <= 0 and reset is not None:
            self._pause(float(reset), "daily quota spent")

    def _estimate_others(self, now: float, remaining: int, ours_so_far: int) -> None:
        """Others' use per window: the fall of Zoho's daily remaining minus our own (or the deployment's)
        responses over the same span."""
        samples = self._remaining_samples
        if samples and remaining > samples[-1][1] + 2 * self.config.max_concurrency:
            samples.clear()  # the daily counter was reset
        samples.append((now, remaining, ours_so_far))
        window = self.config.window_s
        while len(samples) > 2 and samples[1][0] <= now - window:
            samples.popleft()
        first_t, first_remaining, first_seen = samples[0]
        span = now - first_t
        if span < window / 4:
            return
        org_used = first_remaining - remaining
        ours = ours_so_far - first_seen
        self._others_per_window = max(0.0, (org_used - ours) * window / span)

    def _pause(self, seconds: float, reason: str) -> None:
        until = self._clock.monotonic() + seconds
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
            self._pause_reason = reason
        self._notify()

    async def _pause_everywhere(self, seconds: float, reason: str) -> None:
        self._pause(seconds, reason)
        if self.shared is not None:
            await self.shared.pause(self.organization_id, seconds, reason)

    def _lowered_cap(self) -> None:
        ours = self._used(self._clock.monotonic())
        lowered = min(self._cap, ours) - max(1, ours // 20)
        self._cap = max(1, lowered)
        self._last_cap_change = self._clock.monotonic()

    def _on_concurrency_limit(self) -> None:
        # our request was one too many for Zoho's in-flight limit: the others still in flight were enough
        self._concurrency_cap = max(1, min(self._concurrency_cap, self._in_flight))
        self._last_concurrency_change = self._clock.monotonic()
        self._notify()

    async def _attempt(
        self, call: Callable[[], Awaitable[httpx.Response]], idempotent: bool, before_wait: BeforeWait | None
    ) -> httpx.Response:
        cfg = self.config
        try:
            async for attempt in stamina.retry_context(
                on=is_transient,
                attempts=cfg.retry_attempts if idempotent else 1,
                timeout=None,
                wait_initial=cfg.retry_wait_initial_s,
                wait_max=cfg.retry_wait_max_s,
                wait_jitter=cfg.retry_wait_initial_s,
            ):
                with attempt:
                    async with self._slot(before_wait) as slot:
                        response = await call()
                        self._observe(response, slot)
                        if response.status_code == 429 and not cfg.count_rejected:
                            slot.refused = 1
                    if response.status_code >= 500:
                        raise TransientResponse(response)
                    if response.status_code < 300 and not is_json(response):
                        raise TransientResponse(response)  # truncated or garbled body
                    return response
        except TransientResponse as exc:
            return exc.response
        except httpx.TransportError as exc:
            raise ZohoTransportError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(
        self,
        call: Callable[[], Awaitable[httpx.Response]],
        *,
        idempotent: bool = True,
        before_wait: BeforeWait | None = None,
    ) -> httpx.Response:
        """Run `call` (one HTTP request) under the budget; absorb 429s and transient failures.

        `before_wait(seconds)` runs before any pause, so the caller can refresh its token first.
        Returns the final response, which may still be an error for the caller's envelope check.
        """
        repeats = 0
        while True:
            response = await self._attempt(call, idempotent, before_wait)
            if response.status_code != 429:
                return response
            code = error_code(response)
            self.total_429_by_code[code if code is not None else 0] += 1
            repeats += 1
            if repeats > self.config.max_429_retries:
                raise ZohoRateLimited(code, "rate limited too many times in a row", 429)
            if code == 45:
                reset = header_int(response, "X-Rate-Limit-Reset")
                wait = float(reset) if reset is not None else self.config.window_s
                self._reset_at = self._clock.now() + timedelta(seconds=wait)
                await self._pause_everywhere(wait, "daily quota spent (code 45)")
            elif code == 1070:
                self._on_concurrency_limit()
                delay = (
                    self.config.concurrency_retry_s * (2 ** min(repeats - 1, 4)) * random.uniform(0.5, 1.5)
                )
                await self._sleep(delay)
            else:
                self._lowered_cap()
                await self._pause_everywhere(self.config.window_s, "per-minute limit (code 44)")


class BudgetRegistry:
    """One `OrgBudget` per organisation id, so every client and task of an org shares one budget."""

    def __init__(self, shared: SharedWindow | None = None) -> None:
        self._budgets: dict[str, OrgBudget] = {}
        self.shared = shared  # given to every budget this registry makes

    def get(
        self, organization_id: str, config: BudgetConfig | None = None, *, clock: Clock | None = None
    ) -> OrgBudget:
        """The org's budget, created with `config` on first use (a different config later is an error)."""
        budget = self._budgets.get(organization_id)
        if budget is None:
            budget = OrgBudget(organization_id, config, clock=clock, shared=self.shared)
            self._budgets[organization_id] = budget
        elif config is not None and config != budget.config:
            raise ValueError(f"organisation {organization_id} already has a budget with another config")
        return budget


default_registry = BudgetRegistry()


def budget_for(organization_id: str, config: BudgetConfig | None = None) -> OrgBudget:
    """The process-wide budget of an organisation."""
    return default_registry.get(organization_id, config)


__all__ = [
    "BudgetConfig",
    "BudgetRegistry",
    "BudgetSnapshot",
    "OrgBudget",
    "budget_for",
    "default_registry",
]
