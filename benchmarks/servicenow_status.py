"""Benchmark: requests spent following invoices after staging (status, exceptions, import errors, outbound).

Stages N invoices (a header and a line each; every tenth line lacks its GL account, so those invoices raise
"Valid coding required"; every tenth invoice is approved, so it has an outbound record), runs the sandbox's
scheduled invoice job, then refreshes all N with `ServiceNowClient.follow_invoices` and counts the requests
that refresh costs: with the Batch API (the default) and, for comparison, without it.
Target (issue 15): at most 10 requests per 1,000 invoices per refresh.
Run: `python benchmarks/servicenow_status.py [--invoices 1000] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow import ServiceNowAuth, ServiceNowClient
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.tokens import MemoryTokenStore
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_servicenow_sandbox


def staging_rows(count: int, company: Company) -> list[StagingRow]:
    """A header and a line per invoice, against masters the sandbox knows."""
    vendors = [v for v in company.vendors if v.exists_in_servicenow]
    center = next(c for c in company.cost_centers if c.exists_in_servicenow).account_number
    account = next(a for a in company.accounts if a.exists_in_servicenow and a.account_type == "expense").code
    headers, lines = [], []
    for i in range(count):
        number = f"STATUS-{i:06d}"
        vendor = vendors[i % len(vendors)]
        headers.append(
            StagingRow(
                table="sn_spend_intg_imp_invoice",
                source_ref=number,
                values={
                    "u_external_invoice_number": number,
                    "u_erp_source": "Zoho Books",
                    "u_erp_number": str(i),
                    "u_supplier_invoice_number": f"S-{i:06d}",
                    "u_supplier": vendor.supplier_code,
                    "u_invoice_date": "2026-10-01",
                    "u_currency": vendor.currency_code,
                    "u_invoice_type": "non_po_invoice",
                    "u_subtotal": "100.00",
                    "u_shipping_amount": "0",
                    "u_legal_entity": company.legal_entity.company_code,
                },
            )
        )
        lines.append(
            StagingRow(
                table="sn_spend_intg_imp_invoice_line",
                source_ref=f"{number}#1",
                values={
                    "u_external_invoice_number": number,
                    "u_erp_source": "Zoho Books",
                    "u_erp_line_number": "1",
                    "u_subtotal": "100.00",
                    "u_cost_center": center,
                    "u_gl_account": "" if i % 10 == 5 else account,
                },
            )
        )
    return headers + lines


async def run(invoices: int) -> dict[str, Any]:
    """Stage, process, then measure one refresh with and one without the Batch API."""
    company = generate_company(seed=7, bills=5)
    sandbox = create_servicenow_sandbox(company).start()  # no rate-limit rules, no faults
    try:
        clock = OffsetClock()
        auth = ServiceNowAuth(sandbox.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MemoryTokenStore(), clock)
        async with ServiceNowClient(sandbox.url, auth, clock=clock) as client:
            outcomes = await client.stage(staging_rows(invoices, company))
            failed = [o for o in outcomes if not o.status.is_success]
            if failed:
                raise SystemExit(f"{len(failed)} rows failed, e.g. {failed[0].message}")
            ids = [o.target_sys_id or "" for o in outcomes[:invoices]]
            sandbox.run_job("invoice_processing")
            for sys_id in ids[::10]:
                sandbox.approve_invoice(sys_id)
            before, started = client.request_count, time.perf_counter()
            followed = await client.follow_invoices(ids)
            elapsed = time.perf_counter() - started
            batched = client.request_count - before
            sandbox.set_lifecycle(batch_api_enabled=False)
            before = client.request_count
            plain = await client.follow_invoices(ids)
            without_batch = client.request_count - before - 1  # the refused batch attempt aside
        if plain != followed or len(followed) != invoices:
            raise SystemExit("the two refreshes disagree")
        states: dict[str, int] = {}
        for follow_up in followed.values():
            state = follow_up.status.state if follow_up.status else "missing"
            states[str(state)] = states.get(str(state), 0) + 1
    finally:
        sandbox.stop()
    return {
        "invoices": invoices,
        "status_requests": batched,
        "status_requests_per_1000": round(batched * 1000 / invoices, 2),
        "status_requests_per_1000_without_batch_api": round(without_batch * 1000 / invoices, 2),
        "seconds": round(elapsed, 3),
        "states": states,
        "with_exceptions": sum(1 for f in followed.values() if f.exceptions),
        "with_outbound": sum(1 for f in followed.values() if f.outbound),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.invoices))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"followed {result['invoices']} staged invoices in {result['seconds']:.2f}s: "
        f"{result['status_requests']} request(s) = {result['status_requests_per_1000']} per 1,000 "
        f"(target <= 10; without the Batch API {result['status_requests_per_1000_without_batch_api']})\n"
        f"states {result['states']}; {result['with_exceptions']} with open exceptions, "
        f"{result['with_outbound']} with an outbound record",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
