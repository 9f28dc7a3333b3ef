"""Benchmark the Zoho client's request budget against the Zoho sandbox, at a fast time scale.

Sandbox and client are configured alike: `--limit` requests per `--window` seconds (default 100 per 3 s,
Zoho's 100 per minute compressed 20x), so the figures carry over to the real scale.

Figures (all measured over real loopback sockets, nothing mocked):
- budget_use: requests the sandbox accepted from our client ÷ requests the limit allowed over the measured
  interval, with our client alone and more demand than budget (target ≥ 0.95). The interval is 4 windows of
  steady state, after a first window in which the client may spend its banked start-up burst; code44_alone
  counts the per-window 429s of the whole run (target 0).
- share_429_competing: the share of our requests answered 429 while another client of the same org steadily
  uses 30 % of the budget (target ≤ 1 %). Our client only learns of the other one from the daily
  `X-Rate-Limit-Remaining` header and from 429s.
- requests_per_bill_full: API requests ÷ bills for a full pull: one list call per 200 bills plus one detail
  call per bill (target ≤ 1.01, ideal 1.005).
- requests_per_bill_unchanged: an incremental run when nothing changed. The client alone cannot know which
  bills changed, so the run is the list walk with `last_modified_time` = one second after the newest
  modification seen in the full pull: Zoho returns no bill, so no detail call follows. The figure is that
  run's requests ÷ the org's bill count (ideal: 1 ÷ bills).

Usage: python benchmarks/zoho_budget.py [--json] [--window 3] [--limit 100] [--bills 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import timedelta
from typing import Any

import httpx

from zbsn.core.clock import SystemClock
from zbsn.core.tokens import MemoryTokenStore
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.models import ZohoBillSummary, format_zoho_timestamp, parse_zoho_timestamp
from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)


async def authorise(sandbox: ZohoSandbox) -> ZohoTokenManager:
    """A token manager holding tokens from a Self Client code, as an operator would set it up."""
    manager = ZohoTokenManager(MemoryTokenStore(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SystemClock())
    await manager.authorize_self_client(sandbox.accounts_url, sandbox.self_client_code())
    return manager


def new_client(sandbox: ZohoSandbox, manager: ZohoTokenManager, config: BudgetConfig) -> ZohoBooksClient:
    """A client with a fresh org budget (one per scenario, so figures do not mix)."""
    budget = OrgBudget(sandbox.organization_id, config)
    return ZohoBooksClient(organization_id=sandbox.organization_id, tokens=manager, budget=budget)


def accepted(sandbox: ZohoSandbox) -> tuple[int, dict[str, int]]:
    """Requests the sandbox admitted so far, and its 429s by code."""
    api = sandbox.counters()["api"]
    rejections = {code: int(n) for code, n in api["rejections"].items()}
    return int(api["requests"]) - sum(rejections.values()), rejections


async def saturate(client: ZohoBooksClient, bill_ids: list[str], seconds: float, workers: int = 12) -> float:
    """Ask for bill details with more demand than budget for `seconds`; returns the measured interval."""
    deadline = time.monotonic() + seconds
    rng = random.Random(1)

    async def worker() -> None:
        while time.monotonic() < deadline:
            await client.get_bill(rng.choice(bill_ids))

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.monotonic() - started


async def competitor(sandbox: ZohoSandbox, manager: ZohoTokenManager, per_window: float, window: float,
                     stop: asyncio.Event) -> dict[str, int]:  # fmt: skip
    """Another client of the org: one request every window/per_window seconds, no budget of ours."""
    sent: dict[str, int] = {"requests": 0, "429": 0}
    url = f"{sandbox.books_base}/organizations/{sandbox.organization_id}"
    async with httpx.AsyncClient(auth=manager.auth()) as http:
        next_at = time.monotonic()
        while not stop.is_set():
            response = await http.get(url, params={"organization_id": sandbox.organization_id})
            sent["requests"] += 1
            sent["429"] += response.status_code == 429
            next_at += window / per_window
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return sent


async def run(window: float, limit: int, bills: int) -> dict[str, Any]:
    config = BudgetConfig(per_window_limit=limit, window_s=window, retry_wait_initial_s=0.05)
    with create_zoho_sandbox(config=SandboxConfig(org_dc="eu", seed=7, bills=bills)) as sandbox:
        sandbox.set_limits(per_window=limit, window_seconds=window, daily_limit=10**7)
        ours = await authorise(sandbox)
        theirs = await authorise(sandbox)
        bill_ids = list(sandbox.state.bills)

        # 1. alone, saturated
        client = new_client(sandbox, ours, config)
        _, rejected_before = accepted(sandbox)
        load = asyncio.create_task(saturate(client, bill_ids, 6 * window))
        await asyncio.sleep(window)
        before, started = accepted(sandbox)[0], time.monotonic()
        await asyncio.sleep(4 * window)
        after, interval = accepted(sandbox)[0], time.monotonic() - started
        await load
        budget_use = (after - before) / (limit * interval / window)
        code44_alone = accepted(sandbox)[1].get("44", 0) - rejected_before.get("44", 0)
        await client.aclose()
        await asyncio.sleep(window)

        # 2. a competing client steadily using 30 % of the budget
        client = new_client(sandbox, ours, config)
        stop = asyncio.Event()
        rival = asyncio.create_task(competitor(sandbox, theirs, 0.3 * limit, window, stop))
        await asyncio.sleep(window)  # the other client was there first
        await saturate(client, bill_ids, 8 * window)
        stop.set()
        rival_sent = await rival
        snap = client.budget.snapshot()
        share_429 = sum(snap.total_429_by_code.values()) / max(1, snap.total_requests)
        competing = {
            "our_requests": snap.total_requests,
            "our_429": dict(snap.total_429_by_code),
            "others_estimated_per_window": round(snap.others_per_window, 1),
            "rival": rival_sent,
        }
        await client.aclose()
        await asyncio.sleep(window)

        # 3. a full pull: list walk + one detail per bill
        client = new_client(sandbox, ours, config)
        summaries = [b async for b in client.iter_bills() if isinstance(b, ZohoBillSummary)]
        await asyncio.gather(*(client.get_bill(b.bill_id) for b in summaries))
        per_bill_full = client.request_count / len(bill_ids)

        # 4. an incremental run with nothing changed since the newest modification
        newest = max(
            parse_zoho_timestamp(b.last_modified_time_raw) for b in summaries if b.last_modified_time_raw
        )
        since = format_zoho_timestamp(newest + timedelta(seconds=1))
        before_unchanged = client.request_count
        changed = [b async for b in client.iter_bills(modified_since=since)]
        per_bill_unchanged = (client.request_count - before_unchanged) / len(bill_ids)
        await client.aclose()

    return {
        "budget_use": round(budget_use, 4),
        "code44_alone": code44_alone,
        "share_429_competing": round(share_429, 4),
        "requests_per_bill_full": round(per_bill_full, 4),
        "requests_per_bill_unchanged": round(per_bill_unchanged, 5),
        "details": {
            "window_s": window,
            "limit": limit,
            "bills": len(bill_ids),
            "alone_interval_s": round(interval, 2),
            "competing": competing,
            "unchanged_bills_returned": len(changed),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--window", type=float, default=3.0, help="seconds per rate window (Zoho: 60)")
    parser.add_argument("--limit", type=int, default=100, help="requests per window (Zoho: 100)")
    parser.add_argument("--bills", type=int, default=600, help="bills in the sandbox org")
    args = parser.parse_args()
    result = asyncio.run(run(args.window, args.limit, args.bills))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "details"}))
        return
    print(f"budget use, alone (target >= 0.95):         {result['budget_use']:.3f}")
    print(f"code-44 responses, alone (target 0):        {result['code44_alone']}")
    print(f"429 share with a 30 % rival (target <= 1%): {result['share_429_competing']:.2%}")
    print(f"requests per bill, full pull (<= 1.01):     {result['requests_per_bill_full']:.4f}")
    print(f"requests per bill, nothing changed:         {result['requests_per_bill_unchanged']:.5f}")
    print(json.dumps(result["details"], indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
