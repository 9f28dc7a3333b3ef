"""`zbsn sandbox` as a separate process, as an operator would run it, and the steps an operator takes with it.

`ExternalSandbox.start()` runs `zbsn sandbox` in a subprocess and reads the one JSON line it prints; the
console and the CLI are then pointed at its URLs exactly as at a real Zoho org and ServiceNow instance.
`reset()` reseeds both simulators between tests (through their admin endpoints), `self_client_code()` mints
a fresh Self Client code, and `create_cost_center()` is the demo's "fix it in ServiceNow" step.
`connect_profile()` connects a database through the composition root's workspace, like `zbsn connect`
and `zbsn profile create` do.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from zbsn.core.services import open_services
from zbsn.core.settings import Settings

T = TypeVar("T")
START_WAIT_S = 120.0  # generous: CI runs on a loaded 2-core machine


def _admin_base(url: str) -> str:
    """`http://127.0.0.1:N/_admin` whether `url` names the admin root or the server."""
    url = url.rstrip("/")
    return url if url.endswith("/_admin") else f"{url}/_admin"


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own (safe inside a running test loop)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


@dataclass
class ExternalSandbox:
    """A running `zbsn sandbox` process and what it printed."""

    process: subprocess.Popen[str]
    info: dict[str, Any]
    options: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, *options: str) -> ExternalSandbox:
        """Start `zbsn sandbox OPTIONS…` and wait for its JSON line."""
        command = [sys.executable, "-m", "zbsn.core.cli.main", "sandbox", *options]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_WAIT_S)
        if not line or not line[0].strip():
            process.kill()
            _, err = process.communicate(timeout=30)
            raise RuntimeError(
                f"zbsn sandbox printed no JSON line within {START_WAIT_S:.0f} s: {err[-2000:]}"
            )
        return cls(process, json.loads(line[0]), list(options))

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=60)  # drains and closes both pipes
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate(timeout=30)
        return self.process.returncode

    # ---- the sandbox's admin endpoints ----------------------------------------------------------------
    @property
    def zoho_admin(self) -> str:
        return _admin_base(str(self.info["zoho_admin_url"]))

    @property
    def servicenow_admin(self) -> str:
        return _admin_base(str(self.info["servicenow_admin_url"]))

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        response = httpx.post(url, json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Reseed both simulators from the company (a clean ServiceNow instance, Zoho as generated)."""
        self._post(f"{self.zoho_admin}/reset", {})
        self._post(f"{self.servicenow_admin}/reset", {})
        self.set_servicenow_client_credentials(True)

    def revoke_zoho_refresh_tokens(self) -> None:
        """Revoke every Zoho refresh token (the next Zoho call needs re-authorising)."""
        self._post(f"{self.zoho_admin}/oauth/revoke", {"all_refresh_tokens": True})

    def set_servicenow_client_credentials(self, enabled: bool) -> None:
        """Switch the ServiceNow OAuth client-credentials grant on or off."""
        self._post(f"{self.servicenow_admin}/oauth", {"client_credentials_enabled": enabled})

    def self_client_code(self) -> str:
        """A fresh Self Client code for the sandbox's client."""
        body = self._post(
            f"{self.zoho_admin}/oauth/selfclient",
            {"client_id": self.info["zoho_client_id"], "ttl_seconds": 600},
        )
        return str(body["code"])

    def create_cost_center(self, account_number: str, name: str | None = None) -> None:
        """Create a cost center in the ServiceNow sandbox (what the AP team would do in ServiceNow)."""
        if name is None:
            name = next(
                str(m["name"])
                for m in self.info["missing_cost_centers"]
                if m["account_number"] == account_number
            )
        self._post(f"{self.servicenow_admin}/cost_centers", {"account_number": account_number, "name": name})

    def run_servicenow_job(self, name: str = "invoice_processing") -> dict[str, Any]:
        """Run a ServiceNow scheduled job now (invoice processing runs every 30 minutes on an instance)."""
        result: dict[str, Any] = self._post(f"{self.servicenow_admin}/jobs/{name}", {})
        return result

    def servicenow_invoice_action(self, sys_id: str, action: str) -> dict[str, Any]:
        """What the AP team does to an invoice in ServiceNow: "validate", "approve" or "send_to_erp"."""
        result: dict[str, Any] = self._post(f"{self.servicenow_admin}/invoices/{sys_id}/{action}", {})
        return result

    def set_servicenow_transform_map(self, staging_table: str, present: bool) -> None:
        """Remove (or restore) the transform map of a staging table, as an instance lacking it would."""
        action = "restore" if present else "remove"
        self._post(f"{self.servicenow_admin}/metadata/transform_maps/{staging_table}/{action}", {})

    def servicenow_rows(self, table: str) -> list[dict[str, Any]]:
        """Raw rows of a ServiceNow sandbox table."""
        response = httpx.get(f"{self.servicenow_admin}/tables/{table}", timeout=60)
        response.raise_for_status()
        body = response.json()
        rows = body.get("result", body) if isinstance(body, dict) else body
        return list(rows)

    def settings(self) -> Settings:
        """Settings for a console or CLI pointed at this sandbox: its shortened Zoho window."""
        window = float(self.info.get("window_seconds", 60.0))
        return Settings(zoho={"window_seconds": window})  # type: ignore[arg-type]

    def env(self) -> dict[str, str]:
        """The same, as environment variables for a `zbsn` subprocess."""
        return {"ZBSN_ZOHO__WINDOW_SECONDS": str(self.info.get("window_seconds", 60.0))}

    # ---- what `zbsn connect` + `zbsn profile create` do ------------------------------------------------
    def connect_profile(self, db_url: str, name: str = "Northwind (sandbox)") -> int:
        """Connect both systems on `db_url` through the workspace (self-client code, client credentials) and
        create a profile as the demo does; returns its id."""
        services = open_services(self.settings(), db_url)
        workspace = services.workspace
        info = self.info
        code = self.self_client_code()

        async def connect() -> int:
            zoho = await workspace.connect_zoho_self_client(
                code,
                str(info["zoho_client_id"]),
                str(info["zoho_client_secret"]),
                str(info["zoho_accounts_url"]),
                organization_id=str(info["zoho_organization_id"]),
            )
            sn_id, test = await workspace.connect_servicenow(
                str(info["servicenow_url"]),
                str(info["servicenow_client_id"]),
                str(info["servicenow_client_secret"]),
            )
            assert test.ok, test.message
            profile = workspace.create_profile(
                name,
                zoho.connection_id,
                sn_id,
                cost_center_tag_name=str(info.get("cost_center_tag_name", "Cost Center")),
                allow_supplier_create=True,
                legal_entity=info.get("legal_entity"),
            )
            return profile.id

        try:
            return run_coroutine(connect())
        finally:
            services.close()


def wait_for(condition: Any, timeout_s: float = 60.0, step_s: float = 0.05) -> None:
    """Poll `condition()` until true; bounded so a hang fails."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step_s)
    raise AssertionError("condition never held")
