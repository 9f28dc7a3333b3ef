"""Assemble the simulated instance: state, routes, gateway, admin, and a loopback server around them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zbsn.core.clock import OffsetClock
from zbsn.sandbox.company import Company
from zbsn.sandbox.serve import LoopbackServer

from .admin import admin_routes
from .attachment_api import AttachmentApi
from .batch_api import BatchApi
from .config import FaultConfig, ImportSettings, RateLimitRule, ServiceNowSandboxConfig
from .faults import FaultInjector
from .gateway import Counters, Gateway, failure
from .import_set_api import ImportSetService
from .jobs import Jobs
from .lifecycle import InvoiceLifecycle
from .limits import RateLimiter
from .metadata import Metadata
from .oauth import TokenService, token_endpoint
from .schema import STAGING_TABLES
from .seed import ERP_SOURCE_NAME, seed_company
from .state import Database, Record
from .table_api import TableApi
from .transforms import TransformEngine

LIFECYCLE_SETTINGS = (
    "batch_api_enabled",
    "auto_approve",
    "processing_interval_seconds",
    "import_set_retention_days",
    "row_error_comment",
    "enforce_documented_mandatory",
)


class ServiceNowSandbox:
    """One simulated ServiceNow instance. Python admin methods mirror the `/_admin/...` endpoints."""

    def __init__(
        self,
        company: Company,
        config: ServiceNowSandboxConfig | None = None,
        clock: OffsetClock | None = None,
    ) -> None:
        self.company = company
        self.config = config or ServiceNowSandboxConfig()
        self.config.held_supplier_names |= {v.name for v in company.vendors if v.held_in_servicenow}
        self.clock = clock or OffsetClock()
        self.db = Database(self.clock, seed=self.config.seed)
        self.tokens = TokenService(self.config, self.clock)
        self.limiter = RateLimiter(self.config, self.clock)
        self.faults = FaultInjector(self.config.faults)
        self.counters = Counters()
        self.engine = TransformEngine(self.db, self.config)
        self.metadata = Metadata(self.db, self.config)
        self.metadata.register()
        self.imports = ImportSetService(self.db, self.config, self.engine, self.metadata)
        self.lifecycle = InvoiceLifecycle(self.db, self.config)
        self.jobs = Jobs(self.db, self.config, self.clock, self.lifecycle)
        self.table_api = TableApi(self.db, self.config, self.imports.stage_and_transform, self.lifecycle)
        self.attachment_api = AttachmentApi(self.db)
        seed_company(self.db, company)
        self.routes = self._routes()
        self.app = Gateway(
            self.routes, self.tokens, self.limiter, self.faults, self.counters, on_request=self.jobs.tick
        )
        self._server: LoopbackServer | None = None

    def _routes(self) -> Starlette:
        async def oauth(request: Request) -> Response:
            return await token_endpoint(request, self.tokens)

        async def no_resource(request: Request) -> Response:
            return failure(400, "Requested URI does not represent any resource", request.url.path)

        table, imports, files = self.table_api, self.imports, self.attachment_api
        batch = BatchApi(lambda: self.routes, lambda: self.config.batch_api_enabled)
        routes: list[Any] = [
            Route("/oauth_token.do", oauth, methods=["POST"]),
            Route("/api/now/v1/batch", batch.handle, methods=["POST"]),
        ]
        for prefix in ("/api/now", "/api/now/{version:str}"):
            routes += [
                Route(prefix + "/table/{table}", table.list, methods=["GET"]),
                Route(prefix + "/table/{table}", table.create, methods=["POST"]),
                Route(prefix + "/table/{table}/{sys_id}", table.read, methods=["GET"]),
                Route(prefix + "/table/{table}/{sys_id}", table.update, methods=["PATCH", "PUT"]),
                Route(prefix + "/table/{table}/{sys_id}", table.delete, methods=["DELETE"]),
                Route(prefix + "/import/{table}/insertMultiple", imports.insert_multiple, methods=["POST"]),
                Route(prefix + "/import/{table}", imports.insert_one, methods=["POST"]),
                Route(prefix + "/import/{table}/{sys_id}", imports.read_one, methods=["GET"]),
                Route(prefix + "/attachment/file", files.upload, methods=["POST"]),
                Route(prefix + "/attachment", files.list, methods=["GET"]),
                Route(prefix + "/attachment/{sys_id}", files.meta, methods=["GET"]),
                Route(prefix + "/attachment/{sys_id}/file", files.download, methods=["GET"]),
            ]
        routes += admin_routes(self)
        routes.append(
            Route("/api/{rest:path}", no_resource, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        )
        return Starlette(routes=routes)

    # --- serving -----------------------------------------------------------------------------------------
    def start(self) -> ServiceNowSandbox:
        """Serve on a free loopback port."""
        self._server = LoopbackServer(self.app).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        """Base URL of the running instance (stands in for https://<instance>.service-now.com)."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.url

    def __enter__(self) -> ServiceNowSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- admin -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Drop all data, tokens, counters and rate counts; reseed from the Company."""
        with self.db.lock:
            fresh = Database(self.clock, seed=self.config.seed)
            self.db.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})
            self.metadata.register()
            seed_company(self.db, self.company)
        self.tokens.reset()
        self.limiter.reset()
        self.counters.reset()
        self.jobs.reset()
        with self.attachment_api.lock:
            self.attachment_api.attachments.clear()

    def advance_clock(self, seconds: float) -> None:
        """Move the instance clock forward (token expiry, rate windows, sys dates) and run the scheduled jobs
        that fell due (invoice processing every 30 minutes, the Import Set Deleter at midnight)."""
        self.clock.advance(seconds)
        self.jobs.tick()

    def _erp_source(self) -> str:
        record = self.db.find("sn_fin_erp_source", name=ERP_SOURCE_NAME)
        return record["sys_id"] if record else ""

    def create_cost_center(self, account_number: str, name: str, **extra: str) -> Record:
        """Add a cmn_cost_center (e.g. the one a failed invoice line referenced) so a replay succeeds; it
        belongs to the seeded ERP source unless `erp_source` says otherwise."""
        with self.db.lock:
            return self.db.insert(
                "cmn_cost_center",
                {
                    "account_number": account_number,
                    "name": name,
                    "code": account_number,
                    "active": "true",
                    "erp_source": self._erp_source(),
                    **extra,
                },
            )

    def create_gl_account(self, number: str, name: str, **extra: str) -> Record:
        """Add a sn_fin_gl_account (bypassing the Table API create ACL, as an ERP load would), of the seeded
        ERP source unless `erp_source` says otherwise."""
        with self.db.lock:
            return self.db.insert(
                "sn_fin_gl_account",
                {"number": number, "name": name, "active": "true", "erp_source": self._erp_source(), **extra},
            )

    def create_supplier(
        self, erp_supplier_code: str, name: str, *, map_to_legal_entity: bool = True, **extra: str
    ) -> Record:
        """Add a sn_fin_supplier keyed by its ERP supplier code (of the seeded ERP source), mapped to the
        seeded legal entity (`sn_fin_supplier_detail`) unless `map_to_legal_entity=False`."""
        with self.db.lock:
            supplier = self.db.insert(
                "sn_fin_supplier",
                {
                    "erp_supplier_code": erp_supplier_code,
                    "name": name,
                    "legal_name": name,
                    "active": "true",
                    "erp_source": self._erp_source(),
                    **extra,
                },
            )
            if map_to_legal_entity:
                self.set_supplier_detail(erp_supplier_code)
            return supplier

    def set_supplier_detail(
        self,
        erp_supplier_code: str,
        legal_entity: str | None = None,
        *,
        payment_term: str = "Net 30",
        hold_payment: bool = False,
        hold_posting: bool = False,
        remove: bool = False,
    ) -> Record | None:
        """Create, change or (`remove=True`) delete the supplier's mapping to a legal entity (by ERP company
        code; the seeded one by default): what "Invalid or blocked supplier" checks."""
        with self.db.lock:
            supplier = self.db.find("sn_fin_supplier", erp_supplier_code=erp_supplier_code)
            code = legal_entity or self.company.legal_entity.company_code
            entity = self.db.find("sn_fin_legal_entity", erp_company_code=code)
            if supplier is None or entity is None:
                raise ValueError(f"unknown supplier {erp_supplier_code!r} or legal entity {code!r}")
            detail = self.db.find(
                "sn_fin_supplier_detail", supplier=supplier["sys_id"], legal_entity=entity["sys_id"]
            )
            if remove:
                if detail is not None:
                    self.db.delete("sn_fin_supplier_detail", detail["sys_id"])
                return None
            values = {
                "supplier": supplier["sys_id"],
                "legal_entity": entity["sys_id"],
                "payment_term": payment_term,
                "hold_payment": "true" if hold_payment else "false",
                "hold_posting": "true" if hold_posting else "false",
            }
            if detail is None:
                return self.db.insert("sn_fin_supplier_detail", values)
            return self.db.update("sn_fin_supplier_detail", detail["sys_id"], values)

    # --- the invoice lifecycle (what the AP team does in ServiceNow) ---------------------------------------
    def set_lifecycle(self, **settings: Any) -> dict[str, Any]:
        """Change settings (see ServiceNowSandboxConfig): auto_approve, processing_interval_seconds,
        import_set_retention_days, row_error_comment, enforce_documented_mandatory,
        batch_api_enabled."""
        unknown = set(settings) - set(LIFECYCLE_SETTINGS)
        if unknown:
            raise ValueError(f"unknown lifecycle setting(s): {', '.join(sorted(unknown))}")
        for name, value in settings.items():
            current = getattr(self.config, name)
            setattr(self.config, name, type(current)(value))
        if "processing_interval_seconds" in settings:
            self.jobs.reset()
        return {name: getattr(self.config, name) for name in LIFECYCLE_SETTINGS}

    def set_exception_active(self, definition: str, active: bool = True) -> Record:
        """Activate or deactivate an exception definition (e.g. "Missing or invalid business owner")."""
        with self.db.lock:
            record = self.db.find("sn_ap_apm_exception_definition", name=definition)
            if record is None:
                raise ValueError(f"unknown exception definition {definition!r}")
            return self.db.update(
                "sn_ap_apm_exception_definition", record["sys_id"], {"active": "true" if active else "false"}
            )

    def run_job(self, name: str) -> dict[str, Any]:
        """Run a scheduled job now: "invoice_processing" or "import_set_deleter"."""
        return self.jobs.run(name)

    def validate_invoice(self, invoice_sys_id: str) -> Record:
        """Run the exception engine on one invoice now and move it on."""
        with self.db.lock:
            return self.lifecycle.validate(invoice_sys_id)

    def approve_invoice(self, invoice_sys_id: str) -> Record:
        """Approve an invoice awaiting approval (its outbound record is created with Integration status
        New)."""
        with self.db.lock:
            return self.lifecycle.approve(invoice_sys_id)

    def send_to_erp(self, invoice_sys_id: str) -> Record:
        """ "Send to ERP" again: a new outbound record for an approved invoice."""
        with self.db.lock:
            return self.lifecycle.send_to_erp(invoice_sys_id)

    def resolve_exception(self, table: str, exception_sys_id: str, bypass_reason: str = "") -> Record:
        """Resolve (checked again at once) or, with a reason, bypass an exception; the invoice is
        re-checked."""
        with self.db.lock:
            return self.lifecycle.resolve_exception(table, exception_sys_id, bypass_reason)

    # --- metadata knobs (what the pre-flight reads) --------------------------------------------------------
    def remove_column(self, staging_table: str, column: str) -> None:
        """The instance no longer has this staging column (dictionary and staging both)."""
        with self.db.lock:
            self.metadata.remove_column(staging_table, column)

    def restore_column(self, staging_table: str, column: str) -> None:
        """Undo `remove_column`."""
        with self.db.lock:
            self.metadata.restore_column(staging_table, column)

    def remove_transform_map(self, staging_table: str) -> None:
        """The instance has no transform map for this staging table (rows stay pending)."""
        with self.db.lock:
            self.metadata.remove_transform_map(staging_table)

    def restore_transform_map(self, staging_table: str) -> None:
        """Undo `remove_transform_map`."""
        with self.db.lock:
            self.metadata.restore_transform_map(staging_table)

    def set_coalesce(self, staging_table: str, columns: tuple[str, ...] | None) -> None:
        """The map's coalesce columns (empty: none, every row inserts; None: the default)."""
        with self.db.lock:
            self.metadata.set_coalesce(staging_table, columns)

    def set_roles(self, user_name: str, roles: set[str]) -> None:
        """The roles a user holds (`sys_user_has_role`)."""
        with self.db.lock:
            self.metadata.set_roles(user_name, roles)

    def set_client_credentials(self, enabled: bool, application_user: str | None = "keep") -> None:
        """Switch the client-credentials grant on/off; optionally change (or clear, None) the app user."""
        self.config.client_credentials_enabled = enabled
        if application_user != "keep":
            self.config.application_user = application_user

    def set_oauth_client(self, client_id: str, client_secret: str, *, replace: bool = True) -> None:
        """Register an OAuth client (replacing the others unless replace=False)."""
        if replace:
            self.config.clients.clear()
        self.config.clients[client_id] = client_secret

    def set_user(self, username: str, password: str) -> None:
        """Add or change a user for the password grant."""
        self.config.users[username] = password

    def set_token_lifespan(self, seconds: int) -> None:
        """Access-token lifespan for tokens issued from now on (expires_in = seconds - 1)."""
        self.config.token_lifespan_seconds = seconds

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace fault injection settings (reseeds the RNG)."""
        self.faults.configure(faults)
        self.config.faults = faults

    def set_rate_limits(self, rules: list[RateLimitRule]) -> None:
        """Replace the rate-limit rules (counts restart)."""
        self.config.rate_limit_rules[:] = rules
        self.limiter.reset()

    def set_import_mode(self, staging_table: str, mode: str = "async", column_mapping: str = "label") -> None:
        """The `sys_rest_insert_multiple` row of a staging table: mode sync|async, mapping label|name."""
        if staging_table not in STAGING_TABLES:
            raise ValueError(f"not a staging table: {staging_table}")
        if mode not in ("sync", "async") or column_mapping not in ("label", "name"):
            raise ValueError("mode must be sync|async and column_mapping label|name")
        self.config.import_settings[staging_table] = ImportSettings(mode, column_mapping)

    def set_acl(self, table: str, denied: set[str]) -> None:
        """Operations refused on a table through the Table API: subset of create/read/write/delete."""
        self.config.acl_denied[table] = set(denied)

    def counters_snapshot(self) -> dict[str, Any]:
        """Requests by path, responses by status, 429s, injected faults."""
        return {**self.counters.snapshot(), "faults_injected": dict(self.faults.injected)}

    def table(self, name: str) -> list[Record]:
        """A copy of every record of a table (raw stored strings)."""
        with self.db.lock:
            return [dict(r) for r in self.db.records(name)]

    def config_snapshot(self) -> dict[str, Any]:
        """The live config as plain JSON."""
        data = asdict(self.config)
        data["acl_denied"] = {k: sorted(v) for k, v in self.config.acl_denied.items()}
        data["removed_columns"] = {k: sorted(v) for k, v in self.config.removed_columns.items()}
        data["removed_transform_maps"] = sorted(self.config.removed_transform_maps)
        data["user_roles"] = {k: sorted(v) for k, v in self.config.user_roles.items()}
        data["clients"] = sorted(self.config.clients)
        data["users"] = sorted(self.config.users)
        data["held_supplier_names"] = sorted(self.config.held_supplier_names)
        return data


def create_servicenow_sandbox(
    company: Company, config: ServiceNowSandboxConfig | None = None, clock: OffsetClock | None = None
) -> ServiceNowSandbox:
    """Build (not start) a sandbox seeded from `company`; call `.start()` then use `.url`."""
    return ServiceNowSandbox(company, config, clock)
