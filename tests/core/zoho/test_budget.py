"""The org budget: never over the limit in any window, 429 codes 44/45/1070, transient retries, figures."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests.core.zoho.fakes import error, ok
from zbsn.core.clock import OffsetClock
from zbsn.core.zoho.budget import BudgetConfig, BudgetRegistry, OrgBudget
from zbsn.core.zoho.errors import ZohoDailyLimitExceeded, ZohoTransportError

# no pacing: these tests run a 60 s window on a virtual clock, and check pacing separately
FAST = {
    "retry_wait_initial_s": 0.001,
    "retry_wait_max_s": 0.002,
    "concurrency_retry_s": 0.001,
    "pace_evenly": False,
}


def max_in_any_window(stamps: list[float], window: float) -> int:
    """The most stamps inside any half-open interval of length `window` (covers fixed and sliding windows)."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize("pace_evenly", [True, False], ids=["paced", "burst"])
async def test_no_window_ever_holds_more_than_the_limit(pace_evenly: bool) -> None:
    """Real time at a fast scale (limit 10 per 0.4 s), jittery latency, 4 in flight, 60 requests."""
    limit, window = 10, 0.4
    config = BudgetConfig(per_window_limit=limit, window_s=window, max_concurrency=4, **FAST)
    budget = OrgBudget("org", dataclasses.replace(config, pace_evenly=pace_evenly))
    arrivals: list[float] = []
    rng = random.Random(3)

    async def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append(time.monotonic())
        await asyncio.sleep(rng.uniform(0.0, 0.05))
        return ok({})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        responses = await asyncio.gather(
            *(budget.send(lambda: http.get("https://www.zohoapis.eu/books/v3/x")) for _ in range(60))
        )
    assert all(r.status_code == 200 for r in responses)
    assert len(arrivals) == 60
    assert max_in_any_window(arrivals, window) <= limit
    assert max_in_any_window(arrivals, window) == limit  # and the budget is actually used
    snap = budget.snapshot()
    assert (snap.total_requests, snap.in_flight, snap.queue_depth) == (60, 0, 0)


def test_window_counter_helper() -> None:
    assert max_in_any_window([0.0, 0.1, 0.39, 0.4, 0.79], 0.4) == 3
    assert max_in_any_window([0.0, 1.0, 2.0], 0.4) == 1


class Scripted:
    """Answers from a script, then 200; sleeps are virtual (recorded, and the clock moves)."""

    def __init__(self, clock: OffsetClock, script: list[httpx.Response | Exception]) -> None:
        self.clock = clock
        self.script = script
        self.calls = 0
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)

    async def call(self) -> httpx.Response:
        self.calls += 1
        if self.script:
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        return ok(
            {},
            **{"X-Rate-Limit-Limit": "5000", "X-Rate-Limit-Remaining": "4000", "X-Rate-Limit-Reset": "3600"},
        )


def make(
    clock: OffsetClock, script: list[httpx.Response | Exception], **config: float
) -> tuple[OrgBudget, Scripted]:
    scripted = Scripted(clock, script)
    budget = OrgBudget("org", BudgetConfig(**{**FAST, **config}), clock=clock, sleep=scripted.sleep)  # type: ignore[arg-type]
    return budget, scripted


async def test_code_44_pauses_the_org_for_a_window_and_lowers_the_cap() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [error(429, 44, "blocked")])
    waits: list[float] = []

    async def before_wait(seconds: float) -> None:
        waits.append(seconds)

    response = await budget.send(scripted.call, before_wait=before_wait)
    assert response.status_code == 200
    assert scripted.calls == 2
    assert scripted.slept == [pytest.approx(60, abs=0.5)]
    assert waits == scripted.slept  # the caller could refresh its token before the pause
    snap = budget.snapshot()
    assert snap.total_429_by_code == {44: 1}
    assert snap.effective_limit < 100


async def test_code_45_pauses_until_the_daily_reset() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [error(429, 45, "daily", **{"X-Rate-Limit-Reset": "120"})])
    assert (await budget.send(scripted.call)).status_code == 200
    assert scripted.slept == [pytest.approx(120, abs=0.5)]
    assert budget.snapshot().total_429_by_code == {45: 1}


async def test_code_45_with_a_distant_reset_stops_without_hammering() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [error(429, 45, "daily", **{"X-Rate-Limit-Reset": "5000"})])
    with pytest.raises(ZohoDailyLimitExceeded) as caught:
        await budget.send(scripted.call)
    assert caught.value.reset_at is not None
    snap = budget.snapshot()
    assert snap.paused_until is not None
    assert "daily" in (snap.pause_reason or "")
    for _ in range(3):
        with pytest.raises(ZohoDailyLimitExceeded):
            await budget.send(scripted.call)
    assert scripted.calls == 1


async def test_code_1070_retries_after_a_short_jittered_delay() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [error(429, 1070), error(429, 1070)], concurrency_retry_s=0.2)
    assert (await budget.send(scripted.call)).status_code == 200
    assert scripted.calls == 3
    assert len(scripted.slept) == 2
    assert all(0 < s < 1 for s in scripted.slept)
    assert budget.snapshot().paused_until is None  # the org is not paused for a concurrency hiccup


@pytest.mark.parametrize(
    "failure",
    [
        lambda: error(500, 1000, "Internal error"),
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.ReadTimeout("slow"),
        lambda: httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        lambda: httpx.Response(200, content=b'{"code":0,"bills":[{"bill_id"'),  # truncated body
    ],
    ids=["500", "connect", "timeout", "dropped", "truncated"],
)
async def test_transient_failures_are_retried(failure: Callable[[], httpx.Response | Exception]) -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [failure(), failure()])
    assert (await budget.send(scripted.call)).status_code == 200
    assert scripted.calls == 3


async def test_transient_retries_are_bounded() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [httpx.ConnectError("refused")] * 10, retry_attempts=3)
    with pytest.raises(ZohoTransportError):
        await budget.send(scripted.call)
    assert scripted.calls == 3
    budget, scripted = make(clock, [error(500, 1000)] * 10, retry_attempts=3)
    assert (await budget.send(scripted.call)).status_code == 500  # the caller's envelope check raises
    assert scripted.calls == 3


async def test_non_idempotent_calls_are_not_retried() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [error(500, 1000)])
    assert (await budget.send(scripted.call, idempotent=False)).status_code == 500
    assert scripted.calls == 1


async def test_others_using_the_org_shrink_our_share() -> None:
    """Each of our requests sees the daily remaining fall by 2: someone else sends as much as we do."""
    clock = OffsetClock()
    remaining = [5000]

    async def call() -> httpx.Response:
        clock.advance(1.0)
        remaining[0] -= 2
        return ok({}, **{"X-Rate-Limit-Limit": "5000", "X-Rate-Limit-Remaining": str(remaining[0])})

    budget = OrgBudget("org", BudgetConfig(**FAST), clock=clock)
    for _ in range(30):  # fewer than our shrunken share, so no real waiting
        await budget.send(call)
    snap = budget.snapshot()
    assert snap.others_per_window == pytest.approx(60, abs=3)
    assert snap.effective_limit == pytest.approx(100 - 60 - 2, abs=3)
    assert (snap.remaining_today, snap.daily_limit) == (remaining[0], 5000)


async def test_daily_headers_feed_the_snapshot() -> None:
    clock = OffsetClock()
    budget, scripted = make(clock, [])
    await budget.send(scripted.call)
    snap = budget.snapshot()
    assert (snap.remaining_today, snap.daily_limit, snap.per_window_limit, snap.window_seconds) == (
        4000,
        5000,
        100,
        60,
    )
    assert snap.reset_at is not None
    assert snap.used_this_window == 1


def test_registry_shares_one_budget_per_org() -> None:
    registry = BudgetRegistry()
    assert registry.get("1") is registry.get("1")
    assert registry.get("1") is not registry.get("2")
    with pytest.raises(ValueError, match="another config"):
        registry.get("1", BudgetConfig(per_window_limit=5))


def test_a_budget_first_used_in_one_event_loop_works_in_another() -> None:
    """A preview in a helper thread's loop, then a run on the core loop: the same budget serves both, in
    turn and at once, and its in-flight cap holds across them (the asyncio lock and event of one loop used
    to fail the other with 'bound to a different event loop')."""
    budget = OrgBudget("org", BudgetConfig(per_window_limit=10_000, window_s=1.0, max_concurrency=2, **FAST))
    flying = [0]
    most = [0]
    guard = threading.Lock()

    async def handler(_request: httpx.Request) -> httpx.Response:
        with guard:
            flying[0] += 1
            most[0] = max(most[0], flying[0])
        await asyncio.sleep(0.005)
        with guard:
            flying[0] -= 1
        return ok({})

    async def burst(count: int) -> list[int]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:

            async def one() -> int:
                return (await budget.send(lambda: http.get("https://www.zohoapis.eu/books/v3/x"))).status_code

            return await asyncio.gather(*(one() for _ in range(count)))

    assert asyncio.run(burst(12)) == [200] * 12  # contended: the first loop's lock and event are in use
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda: results.append(asyncio.run(burst(12)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [[200] * 12, [200] * 12]
    assert most[0] <= 2  # never more in flight than the cap, though two loops sent at once
    snap = budget.snapshot()
    assert (snap.total_requests, snap.in_flight, snap.queue_depth) == (36, 0, 0)
