"""Benchmark: Zoho API requests per bill for a full sync, the vendor's invoice documents counted.

Starts the demo (both sandboxes on loopback sockets, the real engine and clients, `zbsn.sandbox.demo`) with
Zoho's rate limits off, runs one full sync, and counts what the Zoho sandbox served per endpoint. The bills'
requests are the list pages, one detail per bill and one `GET /bills/{id}/attachment` per bill that carries a
document (about one in seven in the seeded company). Target: requests per bill ≤ 1.01 + the share of bills
carrying a document, i.e. `requests_per_bill_beyond_documents` ≤ 1.01. The other requests of the run
(vendors, chart of accounts, tags, payments, vendor credits) are reported apart, as `other_requests`.

Run: `python benchmarks/attachment_requests.py [--bills 600] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from zbsn.sandbox.demo import start_demo

SEED = 7
BILL_ENDPOINTS = ("GET /bills", "GET /bills/{bill_id}", "GET /bills/{bill_id}/attachment")


def measure(bills: int) -> dict[str, Any]:
    """One full sync of a `bills`-bill company; Zoho requests per bill, documents counted."""
    # No database URL: the demo's own temporary SQLite file and an in-memory vault, removed on exit.
    with start_demo(seed=SEED, bills=bills, webhooks=False) as demo:
        demo.zoho.set_limits(enabled=False)
        before = demo.zoho.requests_by_endpoint()
        summary = asyncio.run(demo.workspace.engine_service().run(demo.profile_id, mode="full"))
        after = demo.zoho.requests_by_endpoint()
        attached = len(demo.servicenow.attachment_api.attachments)
        with_document = sum(1 for b in demo.company.bills if b.documents)
    spent = after - before
    bill_requests = sum(spent[e] for e in BILL_ENDPOINTS)
    share = with_document / bills
    per_bill = bill_requests / bills
    return {
        "bills": bills,
        "bills_with_document": with_document,
        "document_share": round(share, 4),
        "documents_attached": attached,
        "list_requests": spent["GET /bills"],
        "detail_requests": spent["GET /bills/{bill_id}"],
        "attachment_requests": spent["GET /bills/{bill_id}/attachment"],
        "requests_per_bill": round(per_bill, 4),
        "target": round(1.01 + share, 4),
        "requests_per_bill_beyond_documents": round(per_bill - share, 4),
        "other_requests": sum(spent.values()) - bill_requests,
        "run_status": summary.status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=600, help="bills in the seeded company")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.bills)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['bills']} bills, {result['bills_with_document']} with a document "
            f"({result['documents_attached']} attached): "
            f"{result['requests_per_bill']} Zoho requests per bill "
            f"(list {result['list_requests']}, detail {result['detail_requests']}, "
            f"attachment {result['attachment_requests']}); target <= {result['target']} "
            f"(1.01 + the share with a document); {result['other_requests']} other requests"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
