"""Benchmark: Zoho API requests per bill for bills that arrive by webhook (target 0).

Starts the demo (both sandboxes and the webhook receiver on loopback sockets, `zbsn.sandbox.demo`), runs
one full sync, then edits `--bills` open bills in the Zoho sandbox. Each edit makes the sandbox POST a
signed `bill.edited` webhook with the full bill to the receiver, which stores it and has the engine stage
it. The figure is the Zoho API requests the sandbox counted while those webhooks were processed, divided by
the number of bills: a complete webhook payload needs no Zoho request.

Run: `python benchmarks/webhook_requests.py [--bills 50] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from sqlmodel import Session, select

from zbsn.core.db.models import WebhookEvent
from zbsn.core.domain import InboxStatus
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.demo import start_demo


def _settled(engine: Any, count: int, timeout_s: float) -> list[WebhookEvent]:
    deadline = time.monotonic() + timeout_s
    while True:
        with Session(engine) as session:
            events = list(session.exec(select(WebhookEvent)).all())
        if len(events) >= count and all(e.status != InboxStatus.NEW for e in events):
            return events
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(events)} of {count} webhook events settled in {timeout_s} s")
        time.sleep(0.05)


SEED = 7
UNPAID = ("open", "overdue")  # an overdue bill is an open one past its due date


def _unpaid(company: Company) -> list[str]:
    """Bills a webhook edit can touch without a payment in the way: open or overdue, nothing allocated."""
    paid = {a.bill_id for payment in company.payments for a in payment.allocations}
    return [b.bill_id for b in company.bills if b.status in UNPAID and b.bill_id not in paid]


def company_size(bills: int) -> int:
    """The smallest seeded company (from 40 bills, growing by half) with `bills` unpaid bills to edit."""
    size = max(40, bills * 2)
    while len(_unpaid(generate_company(SEED, size))) < bills:
        size += size // 2
    return size


def measure(bills: int, timeout_s: float = 120.0) -> dict[str, Any]:
    """Full sync, then `bills` webhook edits; Zoho API requests per webhook bill."""
    # No database URL: the demo's own temporary SQLite file and an in-memory vault, removed on exit.
    with start_demo(seed=SEED, bills=company_size(bills), rate_window_s=2.0) as demo:
        first = asyncio.run(demo.workspace.engine_service().run(demo.profile_id, mode="full"))
        chosen = _unpaid(demo.company)[:bills]
        if len(chosen) < bills:
            raise RuntimeError(f"only {len(chosen)} unpaid bills for {bills} webhooks")
        before = demo.zoho.requests_by_endpoint()
        started = time.perf_counter()
        for bill_id in chosen:
            delivery = demo.fire_webhook(bill_id, "bill.edited")
            if delivery.get("outcome") != "delivered":
                raise RuntimeError(f"webhook for {bill_id} not delivered: {delivery}")
        events = _settled(demo.db_engine, len(chosen), timeout_s)
        seconds = time.perf_counter() - started
        requests = (demo.zoho.requests_by_endpoint() - before).total()
    processed = sum(1 for e in events if e.status == InboxStatus.PROCESSED)
    return {
        "bills": len(chosen),
        "webhooks_processed": processed,
        "webhooks_failed": len(events) - processed,
        "zoho_requests": requests,
        "requests_per_bill_webhook": round(requests / len(chosen), 4) if chosen else None,
        "seconds": round(seconds, 2),
        "full_sync_staged": first.staged,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=50, help="bills edited (one webhook each)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.bills)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['bills']} bills by webhook: {result['zoho_requests']} Zoho requests "
            f"({result['requests_per_bill_webhook']} per bill; target 0), "
            f"{result['webhooks_processed']} processed, {result['webhooks_failed']} failed"
        )
    return 0 if result["webhooks_failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
