"""Benchmark: ServiceNow requests the engine spends following its staged invoices, per 1,000 invoices.

Starts the demo (both sandboxes over real loopback sockets, the seeded company with N bills, the profile
connected through the product's own flows), runs one sync (its last stage follows every invoice it staged),
runs ServiceNow's invoice job (exceptions found, or pending approval), then refreshes on demand
(`EngineService.refresh_statuses`) twice: once with nothing approved, once after the AP team approved every
tenth invoice (so the refresh also posts those as the ERP, one PATCH each, counted apart). Each refresh's
requests come from its `StatusesRefreshed` event.
Target (issue 15): at most 1 request per 100 invoices per refresh for the status reads (10 per 1,000).
Run: `python benchmarks/engine_status_refresh.py [--bills 1000] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from zbsn.core.engine.events import Event, StatusesRefreshed
from zbsn.sandbox.demo import start_demo

TARGET_PER_1000 = 10.0


async def _refresh(service: Any, profile_id: int) -> tuple[StatusesRefreshed, float]:
    """One refresh on demand; its event and wall time."""
    seen: list[StatusesRefreshed] = []

    def sink(event: Event) -> None:
        if isinstance(event, StatusesRefreshed):
            seen.append(event)

    began = time.perf_counter()
    await service.refresh_statuses(profile_id, events=sink)
    elapsed = time.perf_counter() - began
    if len(seen) != 1:
        raise RuntimeError(f"expected one StatusesRefreshed event, got {len(seen)}")
    return seen[0], elapsed


def _figures(event: StatusesRefreshed, elapsed: float) -> dict[str, Any]:
    reads = event.requests - event.posted  # each posting is one PATCH; the rest are the batched reads
    return {
        "followed": event.followed,
        "requests": event.requests,
        "read_requests": reads,
        "posted": event.posted,
        "read_requests_per_1000": round(reads * 1000 / max(event.followed, 1), 2),
        "by_status": event.by_status,
        "seconds": round(elapsed, 3),
    }


def measure(bills: int) -> dict[str, Any]:
    """Stage `bills` bills through the engine and count what following them costs."""
    # No database URL: the demo's own temporary SQLite file and an in-memory vault, removed on exit.
    with start_demo(bills=bills, rate_window_s=0.05, webhooks=False) as demo:
        service = demo.workspace.engine_service()
        run_events: list[StatusesRefreshed] = []

        def in_run(event: Event) -> None:
            if isinstance(event, StatusesRefreshed):
                run_events.append(event)

        summary = asyncio.run(service.run(demo.profile_id, events=in_run))
        demo.run_invoice_processing()
        first, first_s = asyncio.run(_refresh(service, demo.profile_id))
        waiting = [
            row["sys_id"]
            for row in demo.servicenow.table("sn_shop_invoice")
            if row.get("state") == "pending_approval"
        ]
        for sys_id in waiting[::10]:
            demo.approve_invoice(sys_id)
        second, second_s = asyncio.run(_refresh(service, demo.profile_id))
    in_sync = run_events[-1] if run_events else None
    refreshes = [_figures(first, first_s), _figures(second, second_s)]
    measured = [*refreshes, *([_figures(in_sync, 0.0)] if in_sync else [])]
    worst = max(r["read_requests_per_1000"] for r in measured)
    return {
        "bills": bills,
        "run_status": str(summary.status),
        "staged": summary.staged,
        "in_sync": _figures(in_sync, 0.0) if in_sync else None,
        "refreshes": refreshes,
        "read_requests_per_1000_worst": worst,
        "target_per_1000": TARGET_PER_1000,
        "target_met": worst <= TARGET_PER_1000,
    }


def main(argv: list[str] | None = None) -> None:
    """Print the figures (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.bills)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['staged']:,} records staged from {args.bills:,} bills (run {result['run_status']})")
    if result["in_sync"]:
        s = result["in_sync"]
        print(
            f"  in the sync's statuses stage: {s['followed']:,} invoices, {s['read_requests']} read "
            f"request(s) ({s['read_requests_per_1000']} per 1,000)"
        )
    for n, r in enumerate(result["refreshes"], 1):
        print(
            f"  refresh {n}: {r['followed']:,} invoices, {r['read_requests']} read request(s) "
            f"({r['read_requests_per_1000']} per 1,000), {r['posted']} posted as the ERP "
            f"(one PATCH each), {r['seconds']} s; {r['by_status']}"
        )
    verdict = "met" if result["target_met"] else "MISSED"
    worst = result["read_requests_per_1000_worst"]
    print(f"worst: {worst} read requests per 1,000 invoices (target <= 10): {verdict}")


if __name__ == "__main__":
    main()
