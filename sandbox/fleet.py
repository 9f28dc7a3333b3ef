"""Many Zoho organizations and one ServiceNow instance: what an accounting firm syncs (issue 18).

`Fleet.start(orgs=N, bills=…, window_seconds=…)` starts one Zoho Books sandbox per organization (each its
own set of loopback ports, its own OAuth store and its own rate limiter: the real 100 requests per window,
the window shortened as the demo does) and one ServiceNow sandbox they all stage into. Every organization
serves the seeded company under its own organization id (`fleet_org_id(i)`), so its invoices' staging keys
(`ZB-<org>-<bill>`) never meet another org's in ServiceNow.

`python -m zbsn.sandbox.fleet --orgs N [--bills B] [--seed S] [--window-seconds W]` serves a fleet as a
process of its own and prints ONE JSON line (per org: id, accounts server, API domain, admin URL and a fresh
self-client code; the ServiceNow URL, admin URL and OAuth client), then blocks until SIGTERM or SIGINT.
The scale benchmark (`benchmarks/scale.py`) runs it so; tests start a `Fleet` in their own process.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from zbsn.sandbox.company import Company, Organization
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.process import ZOHO_MINUTE_S, serve_forever
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_CLIENT_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_CLIENT_SECRET
from zbsn.sandbox.servicenow import ServiceNowSandbox, create_servicenow_sandbox
from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)

SELF_CLIENT_CODE_TTL_S = 3600.0
# the Zoho bill statuses a profile stages by default (zbsn.core.engine.bill_lifecycle); void, draft and
# pending_approval are not staged
APPROVED_STATUSES = ("open", "overdue", "partially_paid", "paid")


def fleet_org_id(index: int) -> str:
    """The organization id of the fleet's `index`-th org (Zoho-style digits)."""
    return f"30{index + 1:09d}"


def fleet_company(index: int, bills: int, seed: int = 7) -> Company:
    """The seeded company, as the fleet's `index`-th organization."""
    company = generate_company(seed, bills)
    base = company.organization
    company.organization = Organization(
        fleet_org_id(index), f"{base.name} #{index + 1}", base.time_zone, base.currency_code, base.plan_name
    )
    return company


def stageable_bill_ids(company: Company) -> set[str]:
    """The bills a first sync stages into a ServiceNow sandbox seeded from the same company: approved in
    Zoho (drafts and bills pending approval wait), not defective, their vendor a supplier there, every
    line's cost center there (the rest fail by design)."""
    vendors = {v.contact_id for v in company.vendors if v.exists_in_servicenow}
    missing = {c.tag_option_id for c in company.cost_centers if not c.exists_in_servicenow}
    return {
        b.bill_id
        for b in company.bills
        if b.status in APPROVED_STATUSES
        and b.defect is None
        and b.vendor_id in vendors
        and not any(line.cost_center_option_id in missing for line in b.lines)
    }


@dataclass
class Fleet:
    """N Zoho organizations (one sandbox each) and one ServiceNow instance."""

    zoho: list[ZohoSandbox]
    servicenow: ServiceNowSandbox
    bills: int
    seed: int
    window_seconds: float

    @classmethod
    def start(
        cls, *, orgs: int, bills: int = 100, seed: int = 7, window_seconds: float = ZOHO_MINUTE_S
    ) -> Fleet:
        """Start every sandbox on loopback (stop them with `stop`)."""
        if orgs < 1:
            raise ValueError("a fleet has at least one organization")
        servicenow = create_servicenow_sandbox(generate_company(seed, bills)).start()
        started: list[ZohoSandbox] = []
        try:
            for index in range(orgs):
                zoho = create_zoho_sandbox(
                    fleet_company(index, bills, seed), SandboxConfig(seed=seed, bills=bills)
                )
                zoho.start()
                started.append(zoho)
                zoho.set_limits(enabled=True, per_window=100, window_seconds=window_seconds)
        except BaseException:
            for zoho in started:
                zoho.stop()
            servicenow.stop()
            raise
        return cls(started, servicenow, bills, seed, window_seconds)

    def stop(self) -> None:
        """Stop every sandbox."""
        for zoho in self.zoho:
            zoho.configure_webhooks(None)
            zoho.stop()
        self.servicenow.stop()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def org_info(self, zoho: ZohoSandbox) -> dict[str, Any]:
        """What connecting one org needs, with a fresh self-client code."""
        return {
            "organization_id": zoho.organization_id,
            "accounts_url": zoho.accounts_url,
            "api_domain": zoho.api_domain,
            "admin_url": zoho.admin_url,
            "self_client_code": zoho.self_client_code(ttl_seconds=SELF_CLIENT_CODE_TTL_S),
        }

    def connection_info(self) -> dict[str, Any]:
        """Every org and the ServiceNow instance, as `serve` prints it."""
        company = generate_company(self.seed, min(self.bills, 50))
        return {
            "orgs": [self.org_info(zoho) for zoho in self.zoho],
            "zoho_client_id": DEMO_CLIENT_ID,
            "zoho_client_secret": DEMO_CLIENT_SECRET,
            "servicenow_url": self.servicenow.url,
            "servicenow_admin_url": f"{self.servicenow.url}/_admin",
            "servicenow_client_id": SN_CLIENT_ID,
            "servicenow_client_secret": SN_CLIENT_SECRET,
            "cost_center_tag_name": company.cost_center_tag_name,
            "legal_entity": company.legal_entity.company_code,
            "bills": self.bills,
            "seed": self.seed,
            "window_seconds": self.window_seconds,
        }


def main(argv: list[str] | None = None) -> int:
    """Serve a fleet until SIGTERM/SIGINT (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m zbsn.sandbox.fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, required=True)
    parser.add_argument("--bills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window-seconds", type=float, default=ZOHO_MINUTE_S)
    args = parser.parse_args(argv)
    with Fleet.start(
        orgs=args.orgs, bills=args.bills, seed=args.seed, window_seconds=args.window_seconds
    ) as fleet:
        serve_forever(fleet, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
