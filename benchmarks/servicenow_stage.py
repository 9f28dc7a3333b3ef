"""Benchmark: stage N invoice headers into the ServiceNow sandbox in the default async insertMultiple mode.

Counts EVERY request the staging costs: the token grant, each insertMultiple POST and every
`sys_import_set_row` read-back poll. Run: `python benchmarks/servicenow_stage.py [--rows 2000] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow import ServiceNowAuth, ServiceNowClient
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.tokens import MemoryTokenStore
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_servicenow_sandbox


def header_rows(count: int, supplier_codes: list[str], legal_entity: str) -> list[StagingRow]:
    """`count` invoice header rows against suppliers the sandbox knows."""
    return [
        StagingRow(
            table="sn_spend_intg_imp_invoice",
            source_ref=f"bench:{i}",
            values={
                "u_external_invoice_number": f"BENCH-{i:06d}",
                "u_erp_source": "Zoho Books",
                "u_supplier_invoice_number": f"S-{i:06d}",
                "u_supplier": supplier_codes[i % len(supplier_codes)],
                "u_invoice_date": "2026-10-01",
                "u_currency": "GBP",
                "u_subtotal": f"{100 + i % 900}.00",
                "u_shipping_amount": "0",
                "u_legal_entity": legal_entity,
            },
        )
        for i in range(count)
    ]


async def run(rows: int, batch_size: int) -> dict[str, float]:
    """Stage `rows` headers and measure requests and wall time."""
    company = generate_company(seed=7, bills=5)
    codes = [v.supplier_code for v in company.vendors if v.exists_in_servicenow and v.currency_code == "GBP"]
    sandbox = create_servicenow_sandbox(company).start()  # no rate-limit rules, no faults
    try:
        clock = OffsetClock()
        auth = ServiceNowAuth(sandbox.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MemoryTokenStore(), clock)
        staging = header_rows(rows, codes, company.legal_entity.company_code)
        async with ServiceNowClient(sandbox.url, auth, batch_size=batch_size, clock=clock) as client:
            started = time.perf_counter()
            outcomes = await client.stage(staging)
            elapsed = time.perf_counter() - started
            requests = client.request_count
        failed = [o for o in outcomes if not o.status.is_success]
        if failed:
            raise SystemExit(f"{len(failed)} rows failed, e.g. {failed[0].message}")
        served = sandbox.counters_snapshot()["total"]
    finally:
        sandbox.stop()
    return {
        "rows": rows,
        "requests": requests,
        "requests_seen_by_sandbox": served,
        "seconds": round(elapsed, 3),
        "rows_per_request": round(rows / requests, 2),
        "rows_per_second": round(rows / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.rows, args.batch_size))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"staged {result['rows']:.0f} invoice headers (async insertMultiple) in {result['seconds']:.2f}s\n"
        f"requests: {result['requests']:.0f} (token + POSTs + read-back polls; sandbox saw "
        f"{result['requests_seen_by_sandbox']:.0f})\n"
        f"rows/request: {result['rows_per_request']:.1f}   rows/second: {result['rows_per_second']:.0f}",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
