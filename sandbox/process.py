"""Both simulators as one running pair: what `zbsn sandbox` serves and what `--demo` starts.

`SandboxPair.start(bills=…, seed=…, window_seconds=…, zoho_dc=…)` generates the seeded company, starts the
Zoho Books sandbox (every data centre, the organization in `zoho_dc`) and the ServiceNow sandbox on free
loopback ports, and `connection_info()` says what an operator would otherwise read off Zoho's API console and
ServiceNow's OAuth registry: the accounts server, client id and secret, a fresh self-client code, the
organization id, the instance URL and its OAuth client, plus the admin URLs of both simulators.

`serve_forever(pair, out)` prints that as ONE JSON line and blocks until SIGTERM or SIGINT. Each line printed
carries a self-client code of its own (valid 10 minutes, one exchange); `zbsn sandbox self-client-code`
mints more through the Zoho sandbox's admin endpoint, and `zbsn sandbox create-cost-center` is the demo's
"the AP team adds the cost center in ServiceNow" step. The product's own code never calls either.
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol, TextIO

import httpx

from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_CLIENT_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_CLIENT_SECRET
from zbsn.sandbox.servicenow import ServiceNowSandbox, create_servicenow_sandbox
from zbsn.sandbox.zoho import (
    DC_CODES,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)

ZOHO_MINUTE_S = 60.0
SELF_CLIENT_CODE_TTL_S = 600.0


@dataclass
class SandboxPair:
    """The Zoho Books and ServiceNow simulators serving one seeded company."""

    company: Company
    zoho: ZohoSandbox
    servicenow: ServiceNowSandbox
    window_seconds: float = ZOHO_MINUTE_S

    @classmethod
    def start(
        cls,
        *,
        bills: int = 200,
        seed: int = 7,
        window_seconds: float = ZOHO_MINUTE_S,
        zoho_dc: str = "eu",
    ) -> SandboxPair:
        """Generate the company and start both simulators on loopback (stop them with `stop`)."""
        if zoho_dc not in DC_CODES:
            raise ValueError(f"unknown Zoho data centre {zoho_dc!r}; one of {', '.join(DC_CODES)}")
        if window_seconds <= 0:
            raise ValueError("the Zoho rate window must be a positive number of seconds")
        company = generate_company(seed=seed, bills=bills)
        zoho = create_zoho_sandbox(company, SandboxConfig(org_dc=zoho_dc, seed=seed, bills=bills)).start()
        try:
            if window_seconds != ZOHO_MINUTE_S:
                zoho.set_limits(window_seconds=window_seconds)
            servicenow = create_servicenow_sandbox(company).start()
        except BaseException:
            zoho.stop()
            raise
        return cls(company, zoho, servicenow, window_seconds)

    def stop(self) -> None:
        """Stop both simulators."""
        self.zoho.configure_webhooks(None)
        self.zoho.stop()
        self.servicenow.stop()

    def __enter__(self) -> SandboxPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def missing_cost_centers(self) -> list[dict[str, str]]:
        """Cost centers the Zoho org uses that the ServiceNow instance lacks right now."""
        present = {row.get("account_number") for row in self.servicenow.table("cmn_cost_center")}
        return [
            {"account_number": cc.account_number, "name": cc.name, "zoho_key": cc.tag_option_id}
            for cc in self.company.cost_centers
            if cc.account_number not in present
        ]

    def connection_info(self) -> dict[str, Any]:
        """What an operator types into the console (or `zbsn connect`), with a fresh self-client code."""
        code = self.zoho.self_client_code(ttl_seconds=SELF_CLIENT_CODE_TTL_S)
        return {
            "zoho_dc": self.zoho.config.org_dc,
            "zoho_accounts_url": self.zoho.accounts_url,
            "zoho_api_domain": self.zoho.api_domain,
            "zoho_client_id": DEMO_CLIENT_ID,
            "zoho_client_secret": DEMO_CLIENT_SECRET,
            "zoho_self_client_code": code,
            "zoho_organization_id": self.zoho.organization_id,
            "zoho_admin_url": self.zoho.admin_url,
            "servicenow_url": self.servicenow.url,
            "servicenow_client_id": SN_CLIENT_ID,
            "servicenow_client_secret": SN_CLIENT_SECRET,
            "servicenow_admin_url": f"{self.servicenow.url}/_admin",
            "cost_center_tag_name": self.company.cost_center_tag_name,
            "legal_entity": self.company.legal_entity.company_code,
            "missing_cost_centers": self.missing_cost_centers(),
            "bills": len(self.company.bills),
            "seed": self.company.seed,
            "window_seconds": self.window_seconds,
        }


class Describable(Protocol):
    """Anything that says how to connect to it (`SandboxPair`, `fleet.Fleet`)."""

    def connection_info(self) -> dict[str, Any]: ...


def serve_forever(pair: Describable, out: TextIO, *, stop: threading.Event | None = None) -> None:
    """Print the connection info as one JSON line on `out`, then block until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    out.write(json.dumps(pair.connection_info()) + "\n")
    out.flush()
    while not stop.wait(0.5):
        pass


def _admin(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/_admin") else f"{url}/_admin"


def request_self_client_code(zoho_admin_url: str, client_id: str = DEMO_CLIENT_ID) -> str:
    """A fresh self-client code from a running `zbsn sandbox` (its Zoho admin endpoint)."""
    response = httpx.post(
        f"{_admin(zoho_admin_url)}/oauth/selfclient",
        json={"client_id": client_id, "ttl_seconds": SELF_CLIENT_CODE_TTL_S},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["code"])


def request_cost_center(servicenow_admin_url: str, account_number: str, name: str) -> dict[str, Any]:
    """Create a cmn_cost_center in a running `zbsn sandbox`'s ServiceNow instance (the demo's fix)."""
    response = httpx.post(
        f"{_admin(servicenow_admin_url)}/cost_centers",
        json={"account_number": account_number, "name": name},
        timeout=30,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json().get("result", {})
    return result
