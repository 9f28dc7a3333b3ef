"""Every knob of the Zoho sandbox, with the reference's values as defaults (time-scalable for benchmarks)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PLAN_DAILY_LIMITS = {
    "Free": 1000,
    "Standard": 2000,
    "Professional": 5000,
    "Premium": 10000,
    "Elite": 10000,
    "Ultimate": 10000,
}


@dataclass(slots=True)
class OAuthLimits:
    """Token lifetimes and throttles (zoho-ref §2.5)."""

    code_ttl_seconds: float = 120.0  # web-flow grant codes: single use, 2 minutes [DOC]
    self_client_code_ttl_seconds: float = 180.0  # Self Client default 3 minutes [DOC]
    access_ttl_seconds: float = 3600.0
    mint_limit: int = 10  # access tokens per refresh token per window, then HTTP 400 "Access Denied"
    mint_window_seconds: float = 600.0
    live_access_tokens: int = 15  # per refresh token; the 16th invalidates the oldest
    refresh_tokens_per_user: int = 20  # FIFO: the 21st silently invalidates the oldest
    codes_per_client: int = 10  # consent codes per client per window, then the redirect says access_denied
    codes_window_seconds: float = 600.0


@dataclass(slots=True)
class RateLimits:
    """API request limits per organisation (zoho-ref §6); scale the windows down for fast benchmarks."""

    per_window: int = 100  # requests per window -> 429 code 44
    window_seconds: float = 60.0
    # None = the plan's daily allowance (Professional 5000) -> 429 code 45. Observed headers disagree with
    # the plan table (1000 on a Professional org), hence configurable.
    daily_limit: int | None = None
    # [INF] whether the daily quota is a calendar day or rolling 24 h; the sandbox uses fixed windows of this
    # length aligned to midnight in the org's time zone (for 86400).
    day_seconds: float = 86400.0
    concurrency: int = 10  # in-flight requests per org -> 429 code 1070 (Free plan: 5)
    enabled: bool = True


@dataclass(slots=True)
class FaultConfig:
    """Injected faults: `fault_rate` of the API requests get one fault drawn from `kinds` (by weight).

    Kinds: "error_5xx" (HTTP 500 code 1000), "drop" (headers, part of the body, then the connection closes),
    "slow" (the body trickles out over `slow_ms`), "duplicate_page" (a bills page repeats the last bill of the
    previous page), "deleted_account" (a bill detail line points at an account not in the chart), "malformed"
    (a record carries a non-numeric amount), "revoke_token" (the refresh token behind the request's access
    token is revoked now, then 401 code 57). `latency_ms` delays every API request, independently.
    `endpoints` (e.g. ["GET /vendorpayments"], named as the counters name them; empty: all) and `from_page`
    (list pages before it are spared) aim the faults: a walk whose first page loads and whose second fails.
    """

    fault_rate: float = 0.0
    kinds: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    slow_ms: float = 1500.0
    seed: int = 0
    endpoints: list[str] = field(default_factory=list)
    from_page: int = 1


FAULT_KINDS = ("error_5xx", "drop", "slow", "duplicate_page", "deleted_account", "malformed", "revoke_token")


@dataclass(slots=True)
class SandboxConfig:
    """How a `ZohoSandbox` behaves; every field has the realistic default."""

    org_dc: str = "eu"  # the DC the organisation (and its user) lives in
    oauth: OAuthLimits = field(default_factory=OAuthLimits)
    limits: RateLimits = field(default_factory=RateLimits)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # The sandbox clock starts here (None: the real now) and then runs in real time plus `advance()`.
    start_time: dt.datetime | None = None
    # Zoho's docs insist on `Zoho-oauthtoken`; `Bearer` is rejected with 401 code 14 unless this is set.
    accept_bearer: bool = False
    # [INF] reference open question 10: Books may fall back to the default org when organization_id is
    # missing (Airbyte evidence). Default: an error (HTTP 400 code 2), or the default org when True.
    default_org_fallback: bool = False
    # Enforce OAuth scopes per endpoint (missing scope -> 401 code 57).
    enforce_scopes: bool = True
    seed: int = 7
    bills: int = 200
