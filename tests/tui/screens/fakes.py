"""Stand-ins for the engine facade: deterministic results and events, so screens can be tested fast.

They implement the calls the screens make (preview, mappings, run, replay, reconcile, overrides) with fixed
data; none of this is sync logic the console relies on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from zbsn.core.db.models import AuditRecord
from zbsn.core.engine.events import (
    STAGES,
    BudgetChanged,
    EventBus,
    LogLine,
    RecordFailed,
    RecordStaged,
    RunFinished,
    RunStarted,
    StageFinished,
    StageProgressed,
    StageStarted,
    TokenStatusChanged,
)

AT = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)


@dataclass
class Mapping:
    zoho_key: str
    zoho_name: str
    status: str
    sn_value: str | None = None
    sn_name: str | None = None
    origin: str = "auto"
    blocked_bills: int = 0


@dataclass
class Line:
    description: str
    amount: Decimal
    cost_center: str | None
    gl_account: str | None
    missing: list[str] = field(default_factory=list)


@dataclass
class Bill:
    zoho_id: str
    number: str
    vendor_name: str
    date: str
    total: Decimal
    currency: str
    lines: list[Line]
    missing: list[str] = field(default_factory=list)


@dataclass
class Preview:
    bills: list[Bill]

    def write_csv(self, path: Any) -> None:
        rows = ["number,vendor,total"] + [f"{b.number},{b.vendor_name},{b.total}" for b in self.bills]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class Mappings:
    cost_centers: list[Mapping]
    gl_accounts: list[Mapping]
    suppliers: list[Mapping]


@dataclass
class Reconciliation:
    period: str
    zoho_bills: int
    staged_bills: int
    missing_in_servicenow: list[dict[str, Any]]


def sample_preview() -> Preview:
    bills = [
        Bill(
            "b1",
            "BILL-00041",
            "Acme Office Supply",
            "2025-03-03",
            Decimal("1250.00"),
            "GBP",
            [Line("Paper and toner", Decimal("1250.00"), "Finance - London", "6100 Office supplies")],
        ),
        Bill(
            "b2",
            "BILL-00042",
            "Contoso Travel",
            "2025-03-07",
            Decimal("860.40"),
            "GBP",
            [
                Line(
                    "Flights LIS-LHR",
                    Decimal("610.40"),
                    None,
                    "6200 Travel",
                    ["Cost center 'Marketing - Lisbon' is not in ServiceNow"],
                ),
                Line(
                    "Hotel",
                    Decimal("250.00"),
                    None,
                    "6200 Travel",
                    ["Cost center 'Marketing - Lisbon' is not in ServiceNow"],
                ),
            ],
            ["Cost center 'Marketing - Lisbon' is not in ServiceNow"],
        ),
        Bill(
            "b3",
            "BILL-00043",
            "Evergreen IT",
            "2025-03-12",
            Decimal("4999.99"),
            "GBP",
            [
                Line(
                    "Laptops",
                    Decimal("4999.99"),
                    None,
                    "1500 Equipment",
                    ["Cost center 'Research - Berlin' is not in ServiceNow"],
                )
            ],
            ["Cost center 'Research - Berlin' is not in ServiceNow"],
        ),
    ]
    return Preview(bills)


def sample_mappings() -> Mappings:
    return Mappings(
        cost_centers=[
            Mapping("cc1", "Finance - London", "matched", "CC-100", "Finance London"),
            Mapping("cc2", "Marketing - Lisbon", "missing", blocked_bills=1),
            Mapping("cc3", "Research - Berlin", "missing", blocked_bills=1),
        ],
        gl_accounts=[
            Mapping("a1", "Office supplies", "matched", "6100", "Office supplies"),
            Mapping("a2", "Travel", "matched", "6200", "Travel & subsistence", origin="manual"),
        ],
        suppliers=[Mapping("v1", "Acme Office Supply", "matched", "SUP-1", "Acme Office Supply")],
    )


def run_events(run_id: int = 7) -> list[Any]:
    """A short, complete run: every stage, a budget update, one failure."""
    events: list[Any] = [
        RunStarted(at=AT, run_id=run_id, profile_id=1, mode="changed", trigger="manual"),
        TokenStatusChanged(at=AT, system="zoho", state="ok", expires_in_s=2460),
        TokenStatusChanged(at=AT, system="servicenow", state="ok", expires_in_s=1320),
    ]
    totals = {"cost_centers": 3, "gl_accounts": 2, "suppliers": 5, "bills": 40, "payments": 12}
    for stage in STAGES:
        events.append(StageStarted(at=AT, run_id=run_id, stage=stage, total=totals[stage]))
        events.append(
            StageProgressed(at=AT, run_id=run_id, stage=stage, done=totals[stage], total=totals[stage])
        )
        failed = 2 if stage == "bills" else 0
        events.append(
            StageFinished(
                at=AT, run_id=run_id, stage=stage, staged=totals[stage] - failed, failed=failed, skipped=0
            )
        )
    events += [
        RecordStaged(
            at=AT,
            run_id=run_id,
            kind="bill",
            zoho_id="b1",
            number="BILL-00041",
            staging_status="inserted",
            sn_sys_id="abc",
        ),
        RecordFailed(
            at=AT,
            run_id=run_id,
            kind="bill",
            zoho_id="b2",
            number="BILL-00042",
            error_code="UNMAPPED_COST_CENTER",
            message="Cost center 'Marketing - Lisbon' is not mapped",
        ),
        BudgetChanged(
            at=AT,
            organization_id="20099",
            used_this_window=62,
            per_window_limit=100,
            window_seconds=60,
            remaining_today=9_412,
            daily_limit=10_000,
            reset_at=None,
            queue_depth=3,
            in_flight=2,
            paused_until=None,
            pause_reason=None,
        ),
        LogLine(at=AT, level="warning", text="Zoho answered 429 once; waited 2s as asked"),
        RunFinished(
            at=AT,
            run_id=run_id,
            status="completed_with_failures",
            staged=58,
            failed=2,
            skipped=0,
            unchanged=310,
            zoho_requests=64,
            servicenow_requests=9,
            message=None,
        ),
    ]
    return events


class FakeEngineService:
    """The engine facade's calls, answered from fixed data; `fail` makes every call raise."""

    def __init__(
        self, db: sa.Engine | None = None, *, fail: str | None = None, hold_run: bool = False
    ) -> None:
        self.db = db
        self.fail = fail
        self.hold_run = hold_run
        self.release = asyncio.Event()
        self.calls: list[tuple[str, Any]] = []
        self.overrides: dict[tuple[str, str], str] = {}

    def _check(self) -> None:
        if self.fail:
            raise RuntimeError(self.fail)

    async def mappings(self, profile_id: int) -> Mappings:
        self.calls.append(("mappings", profile_id))
        self._check()
        return sample_mappings()

    async def preview(self, profile_id: int) -> Preview:
        self.calls.append(("preview", profile_id))
        self._check()
        return sample_preview()

    async def set_override(self, profile_id: int, kind: str, zoho_key: str, value: str) -> None:
        self.calls.append(("set_override", (kind, zoho_key, value)))
        self.overrides[(kind, zoho_key)] = value

    async def clear_override(self, profile_id: int, kind: str, zoho_key: str) -> None:
        self.calls.append(("clear_override", (kind, zoho_key)))
        self.overrides.pop((kind, zoho_key), None)

    async def run(
        self, profile_id: int, mode: str, trigger: str, events: EventBus, cancel: asyncio.Event
    ) -> str:
        self.calls.append(("run", (profile_id, mode, trigger)))
        self._check()
        all_events = run_events()
        for event in all_events[:3]:
            events(event)
        if self.hold_run:
            await self.release.wait()
        for event in all_events[3:]:
            if cancel.is_set():
                break
            events(event)
        return "done"

    async def replay(self, profile_id: int, ids: list[int], events: EventBus) -> dict[str, int]:
        """Marks the records staged (what the real engine does after a fix) and publishes their outcome."""
        self.calls.append(("replay", list(ids)))
        self._check()
        table = sa.inspect(AuditRecord).local_table
        assert self.db is not None
        with self.db.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids))
                .values(
                    status="staged",
                    error_code=None,
                    error_message=None,
                    staging_status="updated",
                    attempts=table.c.attempts + 1,
                )
            )
            rows = conn.execute(
                sa.select(table.c.kind, table.c.zoho_id, table.c.zoho_number).where(table.c.id.in_(ids))
            ).all()
        for kind, zoho_id, number in rows:
            events(
                RecordStaged(
                    at=AT,
                    run_id=99,
                    kind=kind,
                    zoho_id=zoho_id,
                    number=number,
                    staging_status="updated",
                    sn_sys_id="x",
                )
            )
        return {"staged": len(rows), "failed": 0}

    async def reconcile(self, profile_id: int, date_start: Any, date_end: Any) -> Reconciliation:
        self.calls.append(("reconcile", (date_start, date_end)))
        self._check()
        return Reconciliation(
            period=f"{date_start} to {date_end}",
            zoho_bills=42,
            staged_bills=40,
            missing_in_servicenow=[
                {"number": "BILL-00042", "vendor": "Contoso Travel", "reason": "UNMAPPED_COST_CENTER"},
                {"number": "BILL-00043", "vendor": "Evergreen IT", "reason": "UNMAPPED_COST_CENTER"},
            ],
        )


@dataclass(frozen=True)
class FakeConnection:
    id: int
    kind: str
    name: str
    state: str
    dc: str | None = None
    accounts_server: str | None = None
    api_domain: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    instance_url: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class FakeToken:
    system: str
    connection_id: int
    state: str
    expires_in_s: float | None
    refresh_in_s: float | None
    message: str | None = None


@dataclass(frozen=True)
class FakeOrg:
    organization_id: str
    name: str


@dataclass(frozen=True)
class FakeZohoResult:
    connection_id: int
    dc: str
    accounts_server: str
    api_domain: str
    organizations: list[FakeOrg]
    chosen: FakeOrg | None


@dataclass(frozen=True)
class FakeTest:
    ok: bool
    message: str


class FakeWorkspace:
    """The Workspace calls the Connect screen makes, recorded; secrets are kept only to assert on them."""

    def __init__(self, *, connected: bool = False, sn_reauth: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.connections: list[FakeConnection] = []
        if connected:
            self.connections = [
                FakeConnection(
                    1,
                    "zoho",
                    "Northwind Zoho",
                    "connected",
                    "eu",
                    "https://accounts.zoho.eu",
                    "https://www.zohoapis.eu",
                    "20099",
                    "Northwind Advisory",
                    client_id="1000.ABC",
                ),
                FakeConnection(
                    2,
                    "servicenow",
                    "Northwind SN",
                    "reauth" if sn_reauth else "connected",
                    instance_url="https://northwind.service-now.com",
                    client_id="sn-client",
                ),
            ]

    def list_connections(self) -> list[FakeConnection]:
        return list(self.connections)

    def token_statuses(self) -> list[FakeToken]:
        states = {"connected": "ok", "reauth": "reauthorise"}
        return [
            FakeToken(
                c.kind,
                c.id,
                states.get(c.state, c.state),
                3000.0,
                2460.0 if c.kind == "zoho" else 1320.0,
                "refresh refused: invalid_client" if c.state == "reauth" else None,
            )
            for c in self.connections
        ]

    async def connect_zoho_self_client(
        self, code: str, client_id: str, secret: str, accounts: str, **kwargs: Any
    ) -> FakeZohoResult:
        self.calls.append(("self_client", (code, client_id, secret, accounts)))
        orgs = [FakeOrg("20099", "Northwind Advisory"), FakeOrg("20100", "Northwind Labs")]
        self.connections = [
            FakeConnection(
                1, "zoho", "Zoho", "connected", "eu", accounts, "https://www.zohoapis.eu", client_id=client_id
            ),
            *self.connections[1:],
        ]
        return FakeZohoResult(1, "eu", accounts, "https://www.zohoapis.eu", orgs, None)

    def choose_zoho_organization(self, connection_id: int, org_id: str, orgs: list[FakeOrg]) -> FakeOrg:
        self.calls.append(("choose", org_id))
        org = next(o for o in orgs if o.organization_id == org_id)
        first = self.connections[0]
        self.connections[0] = FakeConnection(
            first.id,
            "zoho",
            first.name,
            "connected",
            first.dc,
            first.accounts_server,
            first.api_domain,
            org.organization_id,
            org.name,
            client_id=first.client_id,
        )
        return org

    async def connect_servicenow(self, instance: str, client_id: str, secret: str) -> tuple[int, FakeTest]:
        self.calls.append(("servicenow", (instance, client_id, secret)))
        self.connections.append(
            FakeConnection(2, "servicenow", "SN", "connected", instance_url=instance, client_id=client_id)
        )
        return 2, FakeTest(True, "Connected; 1 legal entities visible.")

    async def test_servicenow(self, connection_id: int) -> FakeTest:
        self.calls.append(("test", connection_id))
        return FakeTest(False, "invalid_client: the client secret was refused")
