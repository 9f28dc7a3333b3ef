"""The demo: both sandboxes with the seeded company, connected through the product's own pieces.

`start_demo()` starts the Zoho Books and ServiceNow sandboxes on free loopback ports, opens the services
through the composition root (`zbsn.core.services.open_services`, exactly what `zbsn` and `zbsn-tui` use),
authorises Zoho through the auth-code consent (the sandbox approves it and redirects to the loopback catcher)
and ServiceNow through client credentials, creates the profile, and (unless told not to) runs the webhook
receiver in a background thread, as `zbsn serve` would, so Zoho-side edits arrive as signed webhooks. The
database is a temp dir unless `db` is given, so a demo never touches the operator's real database; with a
temp database the vault key lives only in memory.

The demo lives beside the sandbox: nothing in `zbsn.core` imports it. The demo-only "fix it in ServiceNow"
action (`create_cost_center`) reaches the ServiceNow sandbox directly; the console gets it as its
`SandboxControl` only in `--demo`.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from pydantic import SecretStr

from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.services import DatabaseUnavailable, Services, open_services
from zbsn.core.settings import Settings
from zbsn.core.tls import tls_context
from zbsn.core.token_store import SecretCipher
from zbsn.core.vault import KeySource, Vault, generate_key, open_vault
from zbsn.core.webhooks.receiver import ReceiverState
from zbsn.core.workspace import Workspace
from zbsn.core.zoho.budget import BudgetConfig
from zbsn.sandbox.company import Company
from zbsn.sandbox.process import SandboxPair
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SERVICENOW_CLIENT_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SERVICENOW_CLIENT_SECRET
from zbsn.sandbox.servicenow import ServiceNowSandbox
from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ZohoSandbox

T = TypeVar("T")
DEMO_PROFILE_NAME = "Northwind Advisory (demo)"


def _run_in_fresh_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a private event loop in a helper thread (safe inside a running loop too)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="zbsn-demo-setup", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


async def _follow_consent(url: str) -> None:
    """Act as the browser: the sandbox approves consent and redirects to the loopback catcher."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=30, verify=tls_context()) as browser:
        response = await browser.get(url)
        response.raise_for_status()


@dataclass(frozen=True, slots=True)
class MissingCostCenter:
    """A cost center the Zoho org uses that the ServiceNow instance does not have (yet)."""

    account_number: str
    name: str
    zoho_key: str | None = None  # the reporting-tag option id in Zoho


class _WebhookThread:
    """`zbsn serve`'s runtime (webhook receiver + inbox processor, no schedules) on its own loop in a daemon
    thread, over services of its own (as a separate `zbsn serve` process would have)."""

    def __init__(self, services: Services) -> None:
        self.runtime = services.serve_runtime(port=0, schedules=False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="zbsn-demo-webhooks", daemon=True)

    def _main(self) -> None:
        async def body() -> None:
            self._loop = asyncio.get_running_loop()
            serving = asyncio.create_task(self.runtime.serve())
            await self.runtime.wait_started()
            self._ready.set()
            await serving

        asyncio.run(body())

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(15) or self.runtime.url is None:
            raise RuntimeError("the demo webhook receiver did not start")
        return self.runtime.url

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.runtime.request_stop)
            self._thread.join(15)


@dataclass
class DemoHandle:
    """A running demo: URLs, the connected services, the profile, and the story's actions.

    It is also the console's `SandboxControl` in `--demo` (`missing_cost_centers`, `create_cost_center`).
    """

    services: Services
    profile_id: int
    sandboxes: SandboxPair
    webhook_secret: str = field(repr=False)
    data_dir: Path | None = None
    webhook_url: str | None = None
    _webhooks: _WebhookThread | None = field(default=None, repr=False)
    _owns_engine: bool = field(default=False, repr=False)

    @property
    def zoho(self) -> ZohoSandbox:
        """The Zoho Books sandbox."""
        return self.sandboxes.zoho

    @property
    def servicenow(self) -> ServiceNowSandbox:
        """The ServiceNow sandbox."""
        return self.sandboxes.servicenow

    @property
    def company(self) -> Company:
        """The seeded company both sandboxes serve."""
        return self.sandboxes.company

    @property
    def workspace(self) -> Workspace:
        """The demo's workspace (connections, profiles, tokens)."""
        return self.services.workspace

    @property
    def db_engine(self) -> sa.Engine:
        """The demo's database."""
        return self.services.db

    @property
    def zoho_url(self) -> str:
        """The Zoho Books API domain of the demo org's DC."""
        return str(self.zoho.api_domain)

    @property
    def zoho_accounts_url(self) -> str:
        return str(self.zoho.accounts_url)

    @property
    def servicenow_url(self) -> str:
        return str(self.servicenow.url)

    @property
    def receiver_state(self) -> ReceiverState | None:
        """The webhook receiver's counters (None when the demo runs without it)."""
        return self._webhooks.runtime.receiver_state if self._webhooks is not None else None

    @property
    def organization_id(self) -> str:
        return str(self.zoho.organization_id)

    def missing_cost_centers(self) -> list[MissingCostCenter]:
        """Cost centers used in Zoho but absent from ServiceNow right now."""
        return [MissingCostCenter(**missing) for missing in self.sandboxes.missing_cost_centers()]

    def create_cost_center(self, account_number: str, name: str | None = None) -> str:
        """`SandboxControl`: create a missing cost center in the ServiceNow sandbox; returns its sys_id."""
        return self.create_missing_cost_center(account_number)

    def attach_webhooks(self, receiver_url: str) -> str:
        """Point the Zoho sandbox's workflow webhooks at a receiver (the console's own, in `--demo`)."""
        self.webhook_url = f"{receiver_url}/zoho/webhook/{self.profile_id}"
        self.zoho.configure_webhooks(self.webhook_url, self.webhook_secret)
        return self.webhook_url

    def create_missing_cost_center(self, account_number: str) -> str:
        """Create one missing cmn_cost_center in the ServiceNow sandbox (the fix before a replay)."""
        for missing in self.missing_cost_centers():
            if missing.account_number == account_number:
                record = self.servicenow.create_cost_center(missing.account_number, missing.name)
                return str(record.get("sys_id", "")) if isinstance(record, dict) else str(record)
        raise ValueError(f"cost center {account_number} is not missing in ServiceNow")

    def create_all_missing_cost_centers(self) -> list[str]:
        """Create every missing cost center; returns their account numbers."""
        created = []
        for missing in self.missing_cost_centers():
            self.servicenow.create_cost_center(missing.account_number, missing.name)
            created.append(missing.account_number)
        return created

    # ---- what the AP team does in ServiceNow, and the payment in Zoho (the story after staging) ----------
    def run_invoice_processing(self) -> dict[str, Any]:
        """Run ServiceNow's scheduled invoice job now (the exception engine; every 30 minutes otherwise)."""
        return self.servicenow.run_job("invoice_processing")

    def map_supplier(self, vendor_name: str) -> str:
        """The AP team maps a supplier zbsn created to the legal entity (with its payment term), which
        clears "Invalid or blocked supplier"; returns the supplier's ERP code."""
        code = next(
            (
                str(row["erp_supplier_code"])
                for row in self.servicenow.table("sn_fin_supplier")
                if row.get("name") == vendor_name
            ),
            None,
        )
        if code is None:
            raise ValueError(f"ServiceNow has no supplier named {vendor_name!r}")
        self.servicenow.set_supplier_detail(code)
        return code

    def approve_invoice(self, invoice_sys_id: str) -> str:
        """The AP team approves an invoice awaiting approval (its outbound record is created, New);
        returns the invoice's state."""
        return str(self.servicenow.approve_invoice(invoice_sys_id)["state"])

    def pay_bill(self, bill_id: str) -> str:
        """Pay a bill's whole balance in Zoho Books (the next run stages the payment); returns its id."""
        balance = self.zoho.state.balance(bill_id)
        payment = self.zoho.add_payment({"bills": [{"bill_id": bill_id, "amount_applied": str(balance)}]})
        return str(payment.payment_id)

    def bill_ids(self) -> list[str]:
        """Every bill id of the demo org."""
        return [bill.bill_id for bill in self.company.bills]

    def edit_bill(self, bill_id: str, changes: dict[str, Any] | None = None) -> None:
        """Edit a bill in Zoho (fires `bill.edited` to the receiver when webhooks run)."""
        self.zoho.edit_bill(bill_id, changes or {"notes": f"edited in the demo {secrets.token_hex(3)}"})

    def void_bill(self, bill_id: str) -> None:
        """Void a bill in Zoho (fires `bill.voided`)."""
        self.zoho.void_bill(bill_id)

    def fire_webhook(self, bill_id: str, event: str = "bill.edited", wait_s: float = 10.0) -> dict[str, Any]:
        """Touch a bill so Zoho sends `event` for it; returns the sandbox's delivery record."""
        if self.webhook_url is None:
            raise RuntimeError("the demo runs without the webhook receiver")
        before = len(self.zoho.wait_webhooks(0))
        if event == "bill.voided":
            self.void_bill(bill_id)
        elif event == "bill.deleted":
            self.zoho.delete_bill(bill_id)
        else:
            self.edit_bill(bill_id)
        log: list[dict[str, Any]] = self.zoho.wait_webhooks(wait_s)
        if len(log) <= before:
            raise RuntimeError(f"the Zoho sandbox sent no {event} webhook")
        return log[-1]

    def revoke_zoho(self) -> int:
        """Revoke every Zoho refresh token (the next run needs re-authorising)."""
        return int(self.zoho.revoke_all_refresh_tokens())

    def stop(self) -> None:
        """Stop the receiver and both sandboxes; delete the temp database."""
        if self._webhooks is not None:
            self._webhooks.stop()
            self._webhooks = None
        self.sandboxes.stop()
        if self._owns_engine:
            self.services.db.dispose()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _open_database(db: str | sa.Engine | None) -> tuple[sa.Engine, Path | None, bool]:
    if isinstance(db, sa.Engine):
        return db, None, False
    data_dir = None
    if db is None:
        data_dir = Path(tempfile.mkdtemp(prefix="zbsn-demo-"))
        db = f"sqlite:///{data_dir / 'demo.db'}"
    try:
        engine = make_engine(db)
        migrate.upgrade(engine)
    except sa.exc.SQLAlchemyError as exc:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise DatabaseUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
    return engine, data_dir, True


def demo_settings(settings: Settings, webhook_secret: str) -> Settings:
    """The operator's settings with the demo's webhook secret, the receiver on any free loopback port."""
    webhook = settings.webhook.model_copy(
        update={"secret": SecretStr(webhook_secret), "host": "127.0.0.1", "port": 0}
    )
    return settings.model_copy(update={"webhook": webhook})


def start_demo(
    db: str | sa.Engine | None = None,
    settings: Settings | None = None,
    *,
    seed: int = 7,
    bills: int = 200,
    rate_window_s: float = 60.0,
    allow_supplier_create: bool = True,
    webhooks: bool = True,
    vault: SecretCipher | None = None,
) -> DemoHandle:
    """Start both sandboxes, connect to them through the real flows, create the profile; see the module doc.

    `rate_window_s` shrinks Zoho's 100-requests-per-minute window in the sandbox and the client's budget
    alike (tests and quick demos); the limit itself stays 100. With `webhooks=False` nothing receives the
    sandbox's webhooks until `attach_webhooks` names a receiver (the console's own, in `--demo`).
    """
    webhook_secret = secrets.token_hex(16)
    settings = demo_settings(settings or Settings(), webhook_secret)
    engine, data_dir, owns_engine = _open_database(db)
    if vault is None:
        temporary = data_dir is not None
        in_memory = Vault(generate_key(), KeySource.ENV) if temporary else None
        vault = in_memory or open_vault(engine, settings.keyring_service)
    pair = SandboxPair.start(bills=bills, seed=seed, window_seconds=rate_window_s, zoho_dc="eu")
    zoho, servicenow, company = pair.zoho, pair.servicenow, pair.company
    try:
        budget = BudgetConfig(per_window_limit=settings.zoho.per_minute_limit, window_s=rate_window_s)
        services = open_services(settings, engine, vault=vault, budget_config=budget)
        workspace = services.workspace

        async def connect() -> int:
            zoho_result = await workspace.connect_zoho_auth_code(
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                name="Zoho Books (demo)",
                accounts_server=zoho.dc_urls("us").accounts_url,
                open_url=_follow_consent,
                port=0,  # the sandbox accepts any loopback redirect; parallel demos must not collide
                organization_id=zoho.organization_id,
                timeout_s=30,
            )
            sn_id, test = await workspace.connect_servicenow(
                servicenow.url, SERVICENOW_CLIENT_ID, SERVICENOW_CLIENT_SECRET, name="ServiceNow (demo)"
            )
            if not test.ok:
                raise RuntimeError(f"the ServiceNow sandbox refused the demo client: {test.message}")
            profile = workspace.create_profile(
                DEMO_PROFILE_NAME,
                zoho_result.connection_id,
                sn_id,
                cost_center_tag_name=company.cost_center_tag_name,
                allow_supplier_create=allow_supplier_create,
                legal_entity=company.legal_entity.company_code,
                business_owner=company.business_owner or None,
                cost_center_owners=company.cost_center_owners,
            )
            return profile.id

        profile_id = _run_in_fresh_loop(connect)
        workspace.forget_clients()  # their locks belong to the setup loop; the console uses its own
        handle = DemoHandle(
            services=services,
            profile_id=profile_id,
            sandboxes=pair,
            webhook_secret=webhook_secret,
            data_dir=data_dir,
            _owns_engine=owns_engine,
        )
        if webhooks:  # `zbsn serve` beside the console, with services of its own
            serve_services = open_services(settings, engine, vault=vault, budget_config=budget)
            handle._webhooks = _WebhookThread(serve_services)
            handle.attach_webhooks(handle._webhooks.start())
        return handle
    except BaseException:
        pair.stop()
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
