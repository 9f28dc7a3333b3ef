"""Configuration of the ServiceNow sandbox; every field can also be changed at runtime through admin."""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_CLIENT_ID = "zbsn-demo-client"
DEMO_CLIENT_SECRET = "zbsn-demo-secret"
DEMO_USER = "zbsn.integration"
DEMO_PASSWORD = "zbsn-demo-password"


@dataclass(slots=True)
class RateLimitRule:
    """A `sys_rate_limit_rules` row: `limit` requests per `window_seconds` (an hour on real instances).

    `user=None` applies to all users; counts are kept per user and rule (each user gets `limit`).
    `api` is "table", "import" or None (any); `table` narrows a Table/Import Set API rule to one table.
    """

    limit: int
    window_seconds: int = 3600
    user: str | None = None
    api: str | None = None
    table: str | None = None
    sys_id: str = "a7d3f0b1c0a8016400d3c6b2f1e4a901"


@dataclass(slots=True)
class FaultConfig:
    """Injected trouble on `/api/*` and `/oauth_token.do` (never on `/_admin`).

    `fault_rate` is the chance a request gets one fault drawn uniformly from `kinds`:
    "500", "502", "503", "drop" (connection closed mid-response), "hibernate" (200 + HTML page).
    `hibernating=True` answers every request with the hibernation page. RNG seeded by `seed`.
    """

    fault_rate: float = 0.0
    kinds: tuple[str, ...] = ("500", "503")
    latency_seconds: float = 0.0
    latency_jitter_seconds: float = 0.0
    hibernating: bool = False
    seed: int = 7


@dataclass(slots=True)
class ImportSettings:
    """A `sys_rest_insert_multiple` row for one staging table.

    `mode`: "async" (ServiceNow's default) or "sync". `column_mapping`: "label" (default: record keys are
    staging column labels) or "name" (keys are column names like `u_external_invoice_number`).
    """

    mode: str = "async"
    column_mapping: str = "label"


@dataclass(slots=True)
class ServiceNowSandboxConfig:
    """Everything tunable about the simulated instance."""

    clients: dict[str, str] = field(default_factory=lambda: {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
    users: dict[str, str] = field(default_factory=lambda: {DEMO_USER: DEMO_PASSWORD})
    # Real instances ship the client-credentials grant OFF (glide.oauth.inbound.client.credential.
    # grant_type.enabled=false); the sandbox starts with it ON so the demo works. Toggle via admin.
    client_credentials_enabled: bool = True
    application_user: str | None = DEMO_USER
    token_lifespan_seconds: int = 1800
    refresh_token_lifespan_seconds: int = 8_640_000
    rate_limit_rules: list[RateLimitRule] = field(default_factory=list)
    faults: FaultConfig = field(default_factory=FaultConfig)
    import_settings: dict[str, ImportSettings] = field(default_factory=dict)
    # Table API operations refused by ACL: table -> {"create","read","write","delete"}. The GL chart is
    # refused on create even for admin on a real instance (sn-ref §7.7) - it must come via staging.
    acl_denied: dict[str, set[str]] = field(
        default_factory=lambda: {"sn_fin_gl_account": {"create"}, "sys_import_set_row": {"create", "write"}}
    )
    # [I] coalesce of the OOB "Invoice import" map is undocumented; these staging columns must all match.
    invoice_coalesce: tuple[str, ...] = ("u_external_invoice_number", "u_erp_source")
    coalesce_case_sensitive: bool = False
    async_delay_seconds: float = 0.05  # how soon an async insertMultiple set is transformed
    invalid_query_returns_no_rows: bool = False
    seed: int = 7  # sys_id generation

    # --- after staging (lifecycle.py, jobs.py) ----------------------------------------------------------
    # The scheduled job that runs the exception engine on imported invoices and moves them on: every 30
    # minutes (create-invoice-using-integration.md [C]); 0 switches it off (the admin endpoint still runs it).
    processing_interval_seconds: float = 1800
    # Invoices without exceptions go to Approved on their own (what the docs describe) instead of waiting in
    # Pending approval for the AP team; OFF by default so a run's invoices wait for approval [I].
    auto_approve: bool = False
    # The Import Set Deleter runs at midnight of the sandbox clock and deletes import sets, their rows and
    # row errors older than this (c_ImportSetsKeyConcepts.md, delete-import-sets.md: 7 days [C]); 0 = off.
    import_set_retention_days: float = 7
    # Whether an error row's reason is also written to `sys_import_state_comment` (the readable reason is
    # always the display value of `sys_row_error`) [I].
    row_error_comment: bool = True
    # Refuse staging rows that lack documented mandatory fields zbsn does not send today (Other charges on
    # headers, the remit-to address on payments); OFF so existing runs stage as before.
    enforce_documented_mandatory: bool = False

    # Supplier names whose legal entity mapping starts with Hold payment set when the inbound table creates
    # it: the AP team checks a new vendor before paying it (the seeded company's story [I]; a real instance
    # creates the mapping as loaded). Set from the company's `held_in_servicenow` vendors.
    held_supplier_names: set[str] = field(default_factory=set)

    # The Batch API (`POST /api/now/v1/batch`); off, it answers 400 as an unknown resource would.
    batch_api_enabled: bool = True

    # --- metadata knobs (what the pre-flight reads) ---------------------------------------------------------
    removed_columns: dict[str, set[str]] = field(default_factory=dict)  # staging table -> columns it lacks
    removed_transform_maps: set[str] = field(default_factory=set)  # staging tables without a transform map
    coalesce_overrides: dict[str, tuple[str, ...]] = field(default_factory=dict)  # staging table -> columns
    # sys_user_has_role of each user name [I]: import_transformer [S], the S2P integrator and AP reader [C]
    user_roles: dict[str, set[str]] = field(
        default_factory=lambda: {
            DEMO_USER: {"import_transformer", "sn_spend_intg.procurement_integrator", "sn_ap_apm.reader"}
        }
    )

    def settings_for(self, staging_table: str) -> ImportSettings:
        """The insertMultiple settings of a staging table (defaults when none were set)."""
        return self.import_settings.get(staging_table, ImportSettings())
