"""Benchmark: bills/s for map + validate + stage + audit, and the engine's peak RSS for N bills.

The ServiceNow sandbox runs in a child process (its memory is not ours), with no rate limits; the Zoho side
is an in-process synthetic source that builds each bill on demand from the seeded company's master data,
so the figures measure the engine (normalize, map, validate, audit writes on SQLite, staging through the
real ServiceNowClient over a loopback socket), not the pull. Peak RSS is this process's `ru_maxrss`.

Run: `python benchmarks/engine.py [--bills 100000] [--json] [--stage-mode async_multiple|sync_multiple]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from zbsn.core.clock import OffsetClock, SystemClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.engine.events import Event, StageFinished, StageStarted
from zbsn.core.engine.runner import SyncRunner
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.models import (
    SNCostCenter,
    SNGLAccount,
    SNLegalEntity,
    SNSupplier,
    StagingOutcome,
    StagingRow,
    StagingStatus,
)
from zbsn.core.tokens import MemoryTokenStore
from zbsn.core.zoho.models import (
    RecordError,
    ZohoAccount,
    ZohoBill,
    ZohoBillSummary,
    ZohoLocation,
    ZohoOrganization,
    ZohoReportingTag,
    ZohoVendor,
    ZohoVendorPayment,
)
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company

SEED = 7
ORG = "20098765432"


def serve_servicenow(mode: str) -> None:
    """Child process: serve the ServiceNow sandbox seeded with the company's masters until stdin closes."""
    from zbsn.sandbox.servicenow import create_servicenow_sandbox

    sandbox = create_servicenow_sandbox(generate_company(SEED, 50)).start()
    if mode == "sync_multiple":
        for table in (
            "sn_spend_intg_imp_invoice",
            "sn_spend_intg_imp_invoice_line",
            "sn_spend_intg_imp_invoice_tax_line",
        ):
            sandbox.set_import_mode(table, mode="sync")
    print(sandbox.url, flush=True)
    sys.stdin.read()
    sandbox.stop()


class SyntheticZoho:
    """A ZohoSource of `count` well-formed bills built on demand (nothing held in memory)."""

    def __init__(self, company: Company, count: int) -> None:
        self.company = company
        self.count = count
        self.vendors = [v for v in company.vendors if v.exists_in_servicenow]
        self.centers = [c for c in company.cost_centers if c.exists_in_servicenow]
        self.accounts = [a for a in company.accounts if a.account_type == "expense"]
        self.request_count = 0

    async def get_organization(self) -> ZohoOrganization | RecordError:
        org = self.company.organization
        return ZohoOrganization(
            organization_id=org.organization_id,
            name=org.name,
            time_zone=org.time_zone,
            currency_code=org.currency_code,
        )

    def _raw(self, index: int) -> dict[str, Any]:
        vendor = self.vendors[index % len(self.vendors)]
        lines = []
        total = Decimal(0)
        for n in range(1 + index % 4):
            center = self.centers[(index + n) % len(self.centers)]
            account = self.accounts[(index * 7 + n) % len(self.accounts)]
            rate = Decimal(100 + (index * 13 + n) % 900)
            vat = vendor.currency_code == "GBP" and n % 2 == 0
            total += rate + (rate * Decimal("0.2") if vat else 0)
            lines.append(
                {
                    "line_item_id": f"9{index:012d}{n:05d}",
                    "account_id": account.account_id,
                    "account_name": account.name,
                    "description": "Consulting days",
                    "quantity": 1,
                    "rate": str(rate),
                    "item_total": str(rate),
                    "tax_percentage": 20 if vat else 0,
                    "tax_name": "Standard Rate (20%)" if vat else "",
                    "tax_id": "901" if vat else "",
                    "tags": [
                        {
                            "tag_id": self.company.cost_center_tag_id,
                            "tag_name": "Cost Center",
                            "tag_option_id": center.tag_option_id,
                            "tag_option_name": center.name,
                        }
                    ],
                }
            )
        stamp = f"2026-10-{1 + index % 28:02d}T10:{index % 60:02d}:00+0100"
        return {
            "bill_id": f"8{index:017d}",
            "bill_number": f"BENCH-{index:07d}",
            "vendor_id": vendor.contact_id,
            "vendor_name": vendor.name,
            "status": "open",
            "date": f"2026-10-{1 + index % 28:02d}",
            "due_date": "2026-11-30",
            "currency_code": vendor.currency_code,
            "exchange_rate": 1,
            "total": str(total),
            "created_time": stamp,
            "last_modified_time": stamp,
            "last_modified_time_raw": stamp,
            "line_items": lines,
        }

    async def iter_bills(
        self, modified_since: str | None = None, date_start: Any = None, date_end: Any = None
    ) -> AsyncIterator[ZohoBillSummary | RecordError]:
        for index in range(self.count):
            yield ZohoBillSummary.model_validate(self._raw(index))

    async def get_bill(self, bill_id: str) -> ZohoBill | RecordError:
        return ZohoBill.model_validate(self._raw(int(bill_id[1:])))

    async def iter_vendors(self) -> AsyncIterator[ZohoVendor | RecordError]:
        for v in self.company.vendors:
            yield ZohoVendor(
                contact_id=v.contact_id,
                contact_name=v.name,
                tax_id_value=v.tax_id,
                currency_code=v.currency_code,
            )

    async def get_vendor(self, vendor_id: str) -> ZohoVendor | RecordError:
        raise NotImplementedError

    async def iter_vendor_payments(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorPayment | RecordError]:
        return
        yield

    async def get_vendor_payment(self, payment_id: str) -> ZohoVendorPayment | RecordError:
        raise NotImplementedError

    async def list_accounts(self) -> list[ZohoAccount | RecordError]:
        return [
            ZohoAccount(
                account_id=a.account_id, account_name=a.name, account_code=a.code, account_type=a.account_type
            )
            for a in self.company.accounts
        ]

    async def list_reporting_tags(self) -> list[ZohoReportingTag | RecordError]:
        options = [
            {"tag_option_id": c.tag_option_id, "tag_option_name": c.name} for c in self.company.cost_centers
        ]
        return [
            ZohoReportingTag.model_validate(
                {"tag_id": self.company.cost_center_tag_id, "tag_name": "Cost Center", "tag_options": options}
            )
        ]

    async def list_locations(self) -> list[ZohoLocation | RecordError]:
        return []


class MemoryServiceNow:
    """A ServiceNowTarget answering in memory: the engine's own cost, no HTTP, no per-row state."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.request_count = 0
        self.rows = 0

    async def list_cost_centers(self) -> list[SNCostCenter]:
        return [
            SNCostCenter(sys_id=f"cc{i}", name=c.name, account_number=c.account_number)
            for i, c in enumerate(self.company.cost_centers)
            if c.exists_in_servicenow
        ]

    async def list_gl_accounts(self) -> list[SNGLAccount]:
        return [
            SNGLAccount(sys_id=f"gl{i}", number=a.code, name=a.name)
            for i, a in enumerate(self.company.accounts)
        ]

    async def list_suppliers(self) -> list[SNSupplier]:
        return [
            SNSupplier(sys_id=f"s{i}", name=v.name, supplier_code=v.supplier_code, tax_id=v.tax_id)
            for i, v in enumerate(self.company.vendors)
            if v.exists_in_servicenow
        ]

    async def list_legal_entities(self) -> list[SNLegalEntity]:
        entity = self.company.legal_entity
        return [SNLegalEntity(sys_id="le", name=entity.name, company_code=entity.company_code)]

    async def get_records(
        self, table: str, query: Any, fields: Any, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return [{"code": code} for code in self.company.currencies] if table == "fx_currency" else []

    async def stage(self, rows: Sequence[StagingRow]) -> list[StagingOutcome]:
        """Every row is new here (one sync of fresh bills): answer `inserted`, keeping nothing per row."""
        self.request_count += 1
        self.rows += len(rows)
        return [
            StagingOutcome(source_ref=r.source_ref, status=StagingStatus.INSERTED, target_sys_id=f"{i:032x}")
            for i, r in enumerate(rows, start=self.rows)
        ]


def _profile(db: Any, url: str) -> int:
    with session_scope(db) as session:
        zoho = Connection(
            kind="zoho",
            name="bench-zoho",
            organization_id=ORG,
            time_zone="Europe/London",
            currency_code="GBP",
        )
        sn = Connection(kind="servicenow", name="bench-sn", instance_url=url)
        session.add(zoho)
        session.add(sn)
        session.flush()
        assert zoho.id is not None and sn.id is not None  # noqa: PT018
        profile = SyncProfile(
            name="bench", zoho_connection_id=zoho.id, servicenow_connection_id=sn.id, legal_entity="NWA-UK"
        )
        session.add(profile)
        session.flush()
        assert profile.id is not None
        return profile.id


async def measure(bills: int, url: str | None, stage_mode: str, batch_size: int) -> dict[str, Any]:
    """Run one sync of `bills` synthetic bills; `url` None stages into memory instead of the sandbox."""
    company = generate_company(SEED, 50)
    with tempfile.TemporaryDirectory() as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(db)
        profile_id = _profile(db, url or "memory")

        def servicenow(_profile: SyncProfile) -> ServiceNowClient | MemoryServiceNow:
            if url is None:
                return MemoryServiceNow(company)
            from zbsn.sandbox.servicenow import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

            auth = ServiceNowAuth(url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MemoryTokenStore(), OffsetClock())
            return ServiceNowClient(
                url, auth, poll_interval_s=0.005, poll_timeout_s=300, stage_mode=stage_mode
            )  # type: ignore[arg-type]

        marks: dict[str, float] = {}

        def sink(event: Event) -> None:
            if isinstance(event, StageStarted) and event.stage == "bills":
                marks["start"] = time.perf_counter()
            elif isinstance(event, StageFinished) and event.stage == "bills":
                marks["end"] = time.perf_counter()

        runner = SyncRunner(
            db, lambda _p: SyntheticZoho(company, bills), servicenow, SystemClock(), batch_size=batch_size
        )
        summary = await runner.run(profile_id, events=sink)
        db.dispose()
    if summary.staged != bills:
        raise RuntimeError(f"only {summary.staged} of {bills} bills staged: {summary.message}")
    seconds = marks["end"] - marks["start"]
    return {
        "bills": bills,
        "bills_per_second": round(bills / seconds, 1),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "servicenow_requests": summary.servicenow_requests,
        "stage_mode": stage_mode,
        "target": "servicenow-sandbox" if url else "memory",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stage-mode", default="async_multiple", choices=("async_multiple", "sync_multiple"))
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--target",
        default="memory",
        choices=("memory", "sandbox"),
        help="stage into an in-memory coalescing target (default) or the ServiceNow sandbox",
    )
    parser.add_argument("--serve-servicenow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_servicenow:
        serve_servicenow(args.stage_mode)
        return 0
    if args.target == "memory":
        result = asyncio.run(measure(args.bills, None, args.stage_mode, args.batch_size))
        _report(result, args.json)
        return 0
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-servicenow", "--stage-mode", args.stage_mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        result = asyncio.run(measure(args.bills, url, args.stage_mode, args.batch_size))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    _report(result, args.json)
    return 0


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    print(
        f"{result['bills']} bills: {result['bills_per_second']} bills/s ({result['seconds']} s), "
        f"peak RSS {result['peak_rss_mb']} MB, {result['servicenow_requests']} staging requests "
        f"(target {result['target']})"
    )


if __name__ == "__main__":
    sys.exit(main())
