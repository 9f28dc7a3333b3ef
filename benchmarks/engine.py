"""Benchmark: the engine's bills/s and peak RSS for N bills, against both sandboxes over real sockets.

Default (`--target sandboxes`): the Zoho Books and ServiceNow sandboxes run with their limits off, seeded
with the same generated company of N bills, each in its own child process (so their memory and CPU are not
this process's: peak RSS is the engine's own). This process runs the engine with the real clients
(ZohoBooksClient, ServiceNowClient) over loopback sockets and a SQLite audit DB, in two syncs:

1. end to end: pull (list + one detail request per bill) -> normalize -> map -> validate -> stage -> audit.
   The bill details are recorded to a temp file as they arrive. -> `end_to_end_bills_per_second`.
2. the ServiceNow sandbox is reset and a fresh audit DB synced again, the bill summaries and details now
   read from that recording (the pull is paced by Zoho's real limits in production, so it is measured
   apart): map -> validate -> stage -> audit over the socket into the sandbox. -> `bills_per_second`, the
   median of `--repeat` such syncs (each one's figure is in `bills_per_second_runs`), with the CPU seconds
   the engine and the ServiceNow sandbox spent in the median one's bills stage (`engine_cpu_s`,
   `servicenow_cpu_s`): on 2 cores these say whether the engine, the sandbox or neither was the bound.

Both figures time the run's "bills" stage (StageStarted -> StageFinished); master alignment, suppliers and
payments are outside it. Peak RSS is this process's `ru_maxrss` over both syncs. `--target memory` keeps the
in-process stand-ins (a synthetic Zoho source and an in-memory ServiceNow answering `inserted`).

Run: `python benchmarks/engine.py [--bills 100000] [--json] [--target sandboxes|memory]
[--stage-mode async_multiple|sync_multiple] [--batch-size N] [--writes-in-flight N] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

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
from zbsn.core.tokens import MemoryTokenStore, TokenSet
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
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
    format_zoho_timestamp,
)
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company

SEED = 7
ORG = "20098765432"
# The sandboxes' limits are off; the client's own budget must not pace the pull either.
OPEN_BUDGET = BudgetConfig(
    per_window_limit=10**9,
    window_s=1.0,
    max_concurrency=10,
    retry_wait_initial_s=0.01,
    retry_wait_max_s=0.05,
    concurrency_retry_s=0.01,
)


# --- the sandboxes, in child processes -------------------------------------------------------------------
def serve(kind: str, bills: int, stage_mode: str) -> None:
    """Child process: serve one sandbox seeded with the company of `bills` bills.

    Prints one JSON line (where it listens), then obeys stdin: `reset` reseeds (answers `ok`); EOF stops.
    """
    company = generate_company(SEED, bills)
    if kind == "zoho":
        from zbsn.sandbox.zoho import SandboxConfig, create_zoho_sandbox
        from zbsn.sandbox.zoho.config import RateLimits

        zoho = create_zoho_sandbox(
            # off, and the quotas it still reports in headers are out of reach of a 100k-bill run
            company,
            SandboxConfig(limits=RateLimits(enabled=False, per_window=10**9, daily_limit=10**9)),
        ).start()
        print(
            json.dumps(
                {
                    "accounts_url": zoho.accounts_url,
                    "api_domain": zoho.api_domain,
                    "code": zoho.self_client_code(),
                }
            ),
            flush=True,
        )
        sys.stdin.read()
        zoho.stop()
        return
    from zbsn.sandbox.servicenow import create_servicenow_sandbox

    sandbox = create_servicenow_sandbox(company).start()  # no rate-limit rules, no faults: limits off
    if stage_mode == "sync_multiple":
        for table in (
            "sn_spend_intg_imp_invoice",
            "sn_spend_intg_imp_invoice_line",
            "sn_spend_intg_imp_invoice_tax_line",
        ):
            sandbox.set_import_mode(table, mode="sync")
    print(json.dumps({"url": sandbox.url}), flush=True)
    for line in sys.stdin:
        if line.strip() == "reset":
            sandbox.reset()
            print("ok", flush=True)
    sandbox.stop()


class Child:
    """A sandbox child process: its first JSON line, `reset()`, and `close()`."""

    def __init__(self, kind: str, bills: int, stage_mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--bills", str(bills), "--stage-mode", stage_mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._info: dict[str, str] | None = None

    @property
    def info(self) -> dict[str, str]:
        if self._info is None:
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("sandbox child exited before listening")
            self._info = json.loads(line)
        return self._info

    def cpu_seconds(self) -> float:
        """User + system CPU the child has spent so far (from /proc; 0 where there is none)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None  # noqa: PT018
        self.process.stdin.write("reset\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "ok":
            raise RuntimeError("sandbox reset failed")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- Zoho sources: the real client, recording; then a replay of that recording --------------------------
def _zoho_json(model: ZohoBillSummary | RecordError) -> str:
    """A model as JSON its own validators read back (timestamps as Zoho writes them)."""

    def plain(value: Any) -> str:
        return format_zoho_timestamp(value) if isinstance(value, datetime) else str(value)

    return json.dumps(model.model_dump(), default=plain)


class RecordingZoho:
    """The real Zoho client, writing every bill summary and detail it returns to `folder`."""

    def __init__(self, client: ZohoBooksClient, folder: Path) -> None:
        self._client = client
        self._summaries: IO[str] = (folder / "summaries.jsonl").open("w", encoding="utf-8")
        self._details: IO[str] = (folder / "details.tsv").open("w", encoding="utf-8")
        self.listed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def iter_bills(
        self, modified_since: str | None = None, date_start: Any = None, date_end: Any = None
    ) -> AsyncIterator[ZohoBillSummary | RecordError]:
        async for item in self._client.iter_bills(modified_since, date_start, date_end):
            self.listed += 1
            if isinstance(item, ZohoBillSummary):
                self._summaries.write(_zoho_json(item) + "\n")
            yield item

    async def get_bill(self, bill_id: str) -> ZohoBill | RecordError:
        bill = await self._client.get_bill(bill_id)  # ZohoNotFound propagates, and is not recorded
        kind = "bill" if isinstance(bill, ZohoBill) else "error"
        self._details.write(f"{bill_id}\t{kind}\t{_zoho_json(bill)}\n")
        return bill

    async def aclose(self) -> None:
        self._summaries.close()
        self._details.close()
        await self._client.aclose()


class ReplayZoho:
    """Bills as already pulled (read back from a RecordingZoho's files); the rest from the real client.

    Only the bill offsets are held in memory; each detail is read from disk when the runner asks for it.
    Payments are not replayed: the measurement is the bills stage.
    """

    def __init__(self, client: ZohoBooksClient, folder: Path) -> None:
        self._client = client
        self._summaries = folder / "summaries.jsonl"
        self._details = (folder / "details.tsv").open("rb")
        self._offsets: dict[str, int] = {}
        offset = 0
        for line in self._details:
            self._offsets[line[: line.index(b"\t")].decode()] = offset
            offset += len(line)
        self.listed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def iter_bills(
        self, modified_since: str | None = None, date_start: Any = None, date_end: Any = None
    ) -> AsyncIterator[ZohoBillSummary | RecordError]:
        with self._summaries.open("rb") as lines:
            for line in lines:
                self.listed += 1
                yield ZohoBillSummary.model_validate_json(line)

    async def get_bill(self, bill_id: str) -> ZohoBill | RecordError:
        self._details.seek(self._offsets[bill_id])
        _bill_id, kind, body = self._details.readline().split(b"\t", 2)
        if kind == b"bill":
            return ZohoBill.model_validate_json(body)
        return RecordError.model_validate_json(body)

    async def iter_vendor_payments(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorPayment | RecordError]:
        return
        yield

    async def aclose(self) -> None:
        self._details.close()
        await self._client.aclose()


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


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StageClock:
    """Times the run's "bills" stage from its events, with the CPU this process (and `child`) spent in it."""

    def __init__(self, child: Child | None = None) -> None:
        self.child = child
        self.start = self.end = 0.0
        self.cpu = self.child_cpu = 0.0
        self.finished: StageFinished | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted) and event.stage == "bills":
            self.start = time.perf_counter()
            self.cpu = -_own_cpu_s()
            self.child_cpu = -self.child.cpu_seconds() if self.child else 0.0
        elif isinstance(event, StageFinished) and event.stage == "bills":
            self.end = time.perf_counter()
            self.cpu += _own_cpu_s()
            self.child_cpu += self.child.cpu_seconds() if self.child else 0.0
            self.finished = event

    @property
    def seconds(self) -> float:
        return self.end - self.start


async def measure(bills: int, stage_mode: str, batch_size: int) -> dict[str, Any]:
    """The in-memory stand-ins (`--target memory`): synthetic bills staged into MemoryServiceNow."""
    company = generate_company(SEED, 50)
    with tempfile.TemporaryDirectory() as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(db)
        profile_id = _profile(db, "memory")
        clock = StageClock()
        runner = SyncRunner(
            db,
            lambda _p: SyntheticZoho(company, bills),
            lambda _p: MemoryServiceNow(company),
            SystemClock(),
            batch_size=batch_size,
        )
        summary = await runner.run(profile_id, events=clock)
        db.dispose()
    if summary.staged != bills:
        raise RuntimeError(f"only {summary.staged} of {bills} bills staged: {summary.message}")
    return {
        "bills": bills,
        "bills_per_second": round(bills / clock.seconds, 1),
        "seconds": round(clock.seconds, 2),
        "peak_rss_mb": _rss_mb(),
        "servicenow_requests": summary.servicenow_requests,
        "stage_mode": stage_mode,
        "batch_size": batch_size,
        "target": "memory",
    }


class Clients:
    """Real clients of the sandboxes, one per run (as the engine's factories build them)."""

    def __init__(
        self, zoho: dict[str, str], tokens: TokenSet, servicenow_url: str, stage_mode: str, sn_child: Child
    ) -> None:
        self.zoho_info = zoho
        self.tokens = tokens
        self.servicenow_url = servicenow_url
        self.stage_mode = stage_mode
        self.sn_child = sn_child

    def zoho(self) -> ZohoBooksClient:
        from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

        manager = ZohoTokenManager(MemoryTokenStore(self.tokens), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        return ZohoBooksClient(
            organization_id=ORG,
            tokens=manager,
            budget=OrgBudget(ORG, OPEN_BUDGET),
            api_domain=self.zoho_info["api_domain"],
        )

    def servicenow(self) -> ServiceNowClient:
        from zbsn.sandbox.servicenow import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

        url = self.servicenow_url
        auth = ServiceNowAuth(url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MemoryTokenStore(), OffsetClock())
        # the product's own poll schedule (the client's defaults), only a longer timeout for 100k bills
        return ServiceNowClient(url, auth, poll_timeout_s=300, stage_mode=self.stage_mode)  # type: ignore[arg-type]


async def sync_once(
    folder: Path,
    name: str,
    zoho: RecordingZoho | ReplayZoho,
    clients: Clients,
    batch_size: int,
    writes_in_flight: int,
) -> dict[str, Any]:
    """One sync with a fresh audit DB; the bills stage's figures."""
    db = make_engine(f"sqlite:///{folder / f'{name}.db'}")
    migrate.upgrade(db)
    profile_id = _profile(db, clients.servicenow_url)
    clock = StageClock(clients.sn_child)
    runner = SyncRunner(
        db,
        lambda _p: zoho,
        lambda _p: clients.servicenow(),
        SystemClock(),
        batch_size=batch_size,
        writes_in_flight=writes_in_flight,
    )
    summary = await runner.run(profile_id, events=clock)
    db.dispose()
    if clock.finished is None:
        raise RuntimeError(f"{name}: the bills stage did not finish: {summary.message}")
    done = clock.finished
    return {
        "bills": zoho.listed,
        "seconds": round(clock.seconds, 2),
        "bills_per_second": round(zoho.listed / clock.seconds, 1),
        "staged": done.staged,
        "failed": done.failed,
        "skipped": done.skipped,
        "servicenow_requests": summary.servicenow_requests,
        "zoho_requests": summary.zoho_requests,
        "engine_cpu_s": round(clock.cpu, 2),
        "servicenow_cpu_s": round(clock.child_cpu, 2),
        "peak_rss_mb": _rss_mb(),
    }


async def measure_sandboxes(
    zoho_child: Child, sn_child: Child, stage_mode: str, batch_size: int, writes_in_flight: int, repeat: int
) -> dict[str, Any]:
    """Both syncs against the sandboxes, the replayed one `repeat` times (see the module docstring)."""
    from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    zoho_info = zoho_child.info
    manager = ZohoTokenManager(MemoryTokenStore(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    tokens = await manager.authorize_self_client(zoho_info["accounts_url"], zoho_info["code"])
    clients = Clients(zoho_info, tokens, sn_child.info["url"], stage_mode, sn_child)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        end_to_end = await sync_once(
            folder, "end-to-end", RecordingZoho(clients.zoho(), folder), clients, batch_size, writes_in_flight
        )
        replays = []
        for n in range(repeat):
            sn_child.reset()
            replays.append(
                await sync_once(
                    folder,
                    f"pulled-{n}",
                    ReplayZoho(clients.zoho(), folder),
                    clients,
                    batch_size,
                    writes_in_flight,
                )
            )
    for pulled in replays:
        if (pulled["staged"], pulled["failed"]) != (end_to_end["staged"], end_to_end["failed"]):
            raise RuntimeError(f"a replayed sync differs from the end-to-end one: {pulled} vs {end_to_end}")
    rates = [r["bills_per_second"] for r in replays]
    pulled = sorted(replays, key=lambda r: r["bills_per_second"])[len(replays) // 2]
    return {
        "bills": pulled["bills"],
        "bills_per_second": statistics.median(rates),
        "bills_per_second_runs": rates,
        "seconds": pulled["seconds"],
        "engine_cpu_s": pulled["engine_cpu_s"],
        "servicenow_cpu_s": pulled["servicenow_cpu_s"],
        "end_to_end_bills_per_second": end_to_end["bills_per_second"],
        "end_to_end_seconds": end_to_end["seconds"],
        "peak_rss_mb": _rss_mb(),
        "staged": pulled["staged"],
        "failed": pulled["failed"],
        "servicenow_requests": pulled["servicenow_requests"],
        "end_to_end_zoho_requests": end_to_end["zoho_requests"],
        "stage_mode": stage_mode,
        "batch_size": batch_size,
        "writes_in_flight": writes_in_flight,
        "target": "sandboxes",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stage-mode", default="async_multiple", choices=("async_multiple", "sync_multiple"))
    parser.add_argument("--batch-size", type=int, default=SyncRunner.DEFAULT_BATCH_SIZE)
    parser.add_argument("--writes-in-flight", type=int, default=SyncRunner.DEFAULT_WRITES_IN_FLIGHT)
    parser.add_argument("--repeat", type=int, default=3, help="replayed syncs measured (median reported)")
    parser.add_argument(
        "--target",
        default="sandboxes",
        choices=("sandboxes", "memory"),
        help="both sandboxes over sockets (default) or the in-process stand-ins",
    )
    parser.add_argument("--serve", choices=("zoho", "servicenow"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.bills, args.stage_mode)
        return 0
    if args.target == "memory":
        result = asyncio.run(measure(args.bills, args.stage_mode, args.batch_size))
        _report(result, args.json)
        return 0
    zoho_child = Child("zoho", args.bills, args.stage_mode)
    sn_child = Child("servicenow", args.bills, args.stage_mode)
    try:
        result = asyncio.run(
            measure_sandboxes(
                zoho_child, sn_child, args.stage_mode, args.batch_size, args.writes_in_flight, args.repeat
            )
        )
    finally:
        zoho_child.close()
        sn_child.close()
    _report(result, args.json)
    return 0


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    line = (
        f"{result['bills']} bills: {result['bills_per_second']} bills/s map+validate+stage+audit "
        f"({result['seconds']} s)"
    )
    if "end_to_end_bills_per_second" in result:
        line += (
            f" [median of {result['bills_per_second_runs']}; CPU in the bills stage: engine "
            f"{result['engine_cpu_s']} s, ServiceNow sandbox {result['servicenow_cpu_s']} s; "
            f"{result['writes_in_flight']} writes in flight], "
            f"{result['end_to_end_bills_per_second']} bills/s end to end with the Zoho pull "
            f"({result['end_to_end_seconds']} s)"
        )
    print(
        f"{line}, peak RSS {result['peak_rss_mb']} MB, {result['servicenow_requests']} ServiceNow requests "
        f"(target {result['target']})"
    )


if __name__ == "__main__":
    sys.exit(main())
