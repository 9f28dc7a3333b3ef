"""A Zoho Books v3 + Zoho Accounts (OAuth) simulator over real HTTP on loopback, for every Zoho DC.

Start it::

    from zbsn.sandbox.zoho import SandboxConfig, create_zoho_sandbox, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    sandbox = create_zoho_sandbox(config=SandboxConfig(org_dc="eu", seed=7, bills=200)).start()
    ...
    sandbox.stop()          # or: with create_zoho_sandbox() as sandbox: ...

URLs: one server, 18 loopback ports = an accounts server and an API domain per DC
(us eu in au jp ca cn sa uk).
`sandbox.urls["ca"]` is a `DcUrls(dc, accounts_url, api_domain)` (`.books_base` = api_domain + "/books/v3");
`sandbox.accounts_url` / `.api_domain` / `.books_base` are the org's DC. `DATA_CENTRES` maps each DC to its
real hosts (Canada: https://accounts.zohocloud.ca). Tokens only work at the API domain of the DC that
minted them (else 401 code 57). The org (`sandbox.organization_id`) lives in `config.org_dc`.

OAuth: a demo client is pre-registered: `DEMO_CLIENT_ID` / `DEMO_CLIENT_SECRET`, redirect
`DEMO_REDIRECT_URI`, and it also accepts any http://127.0.0.1|localhost redirect URI. It is a Self Client too.
- Web flow: GET {accounts}/oauth/v2/auth?scope=..&client_id=..&response_type=code&redirect_uri=..&state=..
  &access_type=offline&prompt=consent
  → 302 to redirect_uri?code=..&location=<dc>&accounts-server=<url>&state=..
  Then POST {accounts-server}/oauth/v2/token (query or form params).
- Self Client: `code = sandbox.self_client_code(scopes=READ_SCOPES, ttl_seconds=180)`; exchange it at
  `sandbox.accounts_url`. `sandbox.register_client(id, secret, [redirect_uri])` adds clients.
- `sandbox.revoke(token)`, `sandbox.revoke_all_refresh_tokens()`.

API (`{books_base}/...`, header `Authorization: Zoho-oauthtoken <token>`, `organization_id` query param):
organizations, bills (list/detail; POST/PUT/DELETE), contacts, vendorpayments, chartofaccounts, reportingtags
(+ /settings/tags), locations. Reporting-tag options carry the ServiceNow cost-center number in
`description`; a vendor's supplier code is `custom_field_hash["cf_supplier_code"]`.

Knobs (Python; the same over HTTP under `sandbox.admin_url`, see `admin.py`):
- `sandbox.advance(seconds)`: the sandbox clock (token/code expiry, rate windows, daily reset);
- `sandbox.set_limits(per_window=100, window_seconds=60, daily_limit=5000, day_seconds=86400, concurrency=10,
  enabled=True)`; `sandbox.set_faults(fault_rate=0.2, kinds={"error_5xx": 1, "drop": 1}, latency_ms=0,
  slow_ms=1500, seed=0, endpoints=[], from_page=1)` (kinds: error_5xx drop slow duplicate_page
  deleted_account malformed revoke_token; `endpoints=["GET /vendorpayments"], from_page=2` aims them at the
  second and later pages of one list);
- data: `add_bill(body)`, `edit_bill(id, changes)`, `submit_bill(id)`, `approve_bill(id)`,
  `return_bill_to_draft(id, status="draft")`, `void_bill(id)`, `delete_bill(id)`, `add_payment(body)`,
  `delete_payment(id)`, `reset(seed, bills)`;
- webhooks: `configure_webhooks(url, secret, events=None)`, `wait_webhooks()` → delivery log
  (header X-Zoho-Webhook-Signature; `sign()` in `webhooks.py` documents the algorithm);
- `sandbox.counters()`: API requests by endpoint, 429s by code, statuses, OAuth outcomes, faults, webhooks.
"""

from zbsn.sandbox.zoho.app import ZohoSandbox, create_zoho_sandbox
from zbsn.sandbox.zoho.config import FaultConfig, OAuthLimits, RateLimits, SandboxConfig
from zbsn.sandbox.zoho.dcs import DATA_CENTRES, DC_CODES, DataCentre, DcUrls
from zbsn.sandbox.zoho.oauth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, READ_SCOPES
from zbsn.sandbox.zoho.webhooks import SIGNATURE_HEADER, WEBHOOK_EVENTS, sign

__all__ = [
    "DATA_CENTRES",
    "DC_CODES",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REDIRECT_URI",
    "READ_SCOPES",
    "SIGNATURE_HEADER",
    "WEBHOOK_EVENTS",
    "DataCentre",
    "DcUrls",
    "FaultConfig",
    "OAuthLimits",
    "RateLimits",
    "SandboxConfig",
    "ZohoSandbox",
    "create_zoho_sandbox",
    "sign",
]
