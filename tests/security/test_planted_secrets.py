"""Plant known secrets, drive the product end to end, then grep everything it wrote for them.

The flow: the demo (both sandboxes over real loopback HTTP, the real OAuth flows, the webhook receiver) on a
database in ZBSN_HOME, re-connected with OAuth clients whose secrets only this test knows; a full sync, a
signed webhook, preview, the CLI with `--json` (`sync`, `audit`, `doctor`, `config show`, `preview`,
`reconcile`) as real subprocesses, then trouble: ServiceNow rotates the client secret, Zoho revokes every
refresh token, a Zoho exchange with a wrong secret; and a TUI screenshot. The access and refresh tokens the
sandboxes minted during all of that are read from their state. None of the secrets, tokens or
`Zoho-oauthtoken <token>` / `Bearer <token>` may appear in the log dir, the database (raw file bytes on
SQLite, every column of every table on both backends), CLI stdout/stderr, exception texts or the SVG.

Each scan is shown able to fail: the same scan, run after the secret is written on purpose, finds it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import FAIL_BACKEND
from tests.security.leakscan import needles_for, scan_bytes, scan_database, scan_texts, scan_tree
from zbsn.core.db.engine import make_engine
from zbsn.core.logs import setup_logging
from zbsn.sandbox.demo import DemoHandle, _follow_consent, _run_in_fresh_loop, start_demo
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_DEMO_SECRET
from zbsn.sandbox.servicenow import DEMO_PASSWORD as SN_DEMO_PASSWORD
from zbsn.sandbox.zoho import DEMO_CLIENT_SECRET as ZOHO_DEMO_SECRET

ZBSN_SCRIPT = Path(sys.executable).parent / "zbsn"


def _planted() -> dict[str, str]:
    tag = secrets.token_hex(8)
    return {
        "zoho client secret": f"zoho-planted-secret-{tag}",
        "servicenow client secret": f"sn-planted-secret-{tag}",
        "servicenow bad secret": f"sn-bad-secret-{tag}",
        "zoho bad secret": f"zoho-bad-secret-{tag}",
        "webhook secret (config)": f"hook-planted-secret-{tag}",
        "zoho demo client secret": ZOHO_DEMO_SECRET,
        "servicenow demo client secret": SN_DEMO_SECRET,
        "servicenow demo password": SN_DEMO_PASSWORD,
    }


class TokenHarvest:
    """Every token the sandboxes have minted, read from their state (kept across resets and revocations)."""

    def __init__(self, demo: DemoHandle) -> None:
        self.demo = demo
        self.tokens: dict[str, str] = {}

    def collect(self) -> None:
        oauth = self.demo.zoho.oauth
        with oauth.lock:
            zoho = [*oauth.refresh_tokens, *oauth.access_tokens, *oauth.codes]
        now = self.demo.servicenow.tokens
        for index, token in enumerate(zoho):
            self.tokens.setdefault(f"zoho token/code #{len(self.tokens)}-{index}", token)
        for index, token in enumerate([*now.access, *now.refresh]):
            self.tokens.setdefault(f"servicenow token #{len(self.tokens)}-{index}", token)
        # One label per distinct value.
        self.tokens = {label: value for value, label in {v: k for k, v in self.tokens.items()}.items()}


class Capture:
    """Text the product handed back: CLI output, results, exceptions (message, repr, traceback)."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def call(self, where: str, make: Any) -> Any:
        try:
            result = _run_in_fresh_loop(make)
        except Exception as exc:
            self.add(f"{where}: str(exc)", str(exc))
            self.add(f"{where}: repr(exc)", repr(exc))
            self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
            return exc
        self.add(f"{where}: repr(result)", repr(result))
        return result


def _cli(
    capture: Capture, db_url: str, home: Path, webhook_secret: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZBSN_")}
    env.update(
        ZBSN_HOME=str(home),
        ZBSN_LOG_LEVEL="DEBUG",
        ZBSN_WEBHOOK__SECRET=webhook_secret,
        PYTHON_KEYRING_BACKEND=FAIL_BACKEND,
    )
    done = subprocess.run(
        [str(ZBSN_SCRIPT), "--db", db_url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    name = " ".join(args)
    capture.add(f"`zbsn {name}` stdout", done.stdout)
    capture.add(f"`zbsn {name}` stderr", done.stderr)
    return done


@pytest.fixture
def demo(db_url: str, zbsn_home: Path) -> Iterator[DemoHandle]:
    handle = start_demo(db_url, seed=7, bills=30, rate_window_s=2.0)
    try:
        yield handle
    finally:
        handle.stop()


async def _reconnect(demo: DemoHandle, planted: dict[str, str]) -> None:
    """Re-authorise both systems with OAuth clients whose secrets only this test knows."""
    workspace = demo.workspace
    profile = workspace.get_profile(demo.profile_id)
    await workspace.connect_zoho_auth_code(
        "1000.PLANTEDCLIENT",
        planted["zoho client secret"],
        connection_id=profile.zoho_connection_id,
        accounts_server=demo.zoho.dc_urls("us").accounts_url,
        open_url=_follow_consent,
        port=0,
        organization_id=demo.organization_id,
        timeout_s=30,
    )
    _sn_id, test = await workspace.connect_servicenow(
        demo.servicenow_url, "planted-sn-client", planted["servicenow client secret"]
    )
    assert test.ok, test.message


def test_no_planted_secret_or_token_reaches_anything_the_product_wrote(
    demo: DemoHandle, db_url: str, zbsn_home: Path
) -> None:
    planted = _planted()
    log_file = setup_logging("DEBUG")  # the product's own log file in ZBSN_HOME/logs, most verbose level
    assert log_file.is_relative_to(zbsn_home)
    harvest = TokenHarvest(demo)
    capture = Capture()
    workspace, profile_id = demo.workspace, demo.profile_id

    # Known clients on both sandboxes; ServiceNow forgets its demo client so only the planted one works.
    demo.zoho.register_client(
        "1000.PLANTEDCLIENT", planted["zoho client secret"], [], loopback_redirects=True
    )
    demo.servicenow.set_oauth_client("planted-sn-client", planted["servicenow client secret"])
    demo.servicenow.tokens.reset()
    harvest.collect()
    capture.call("reconnect", lambda: _reconnect(demo, planted))
    workspace.forget_clients()

    summary = capture.call("sync", lambda: workspace.engine_service().run(profile_id, mode="full"))
    assert getattr(summary, "staged", 0) > 0, summary
    capture.call("preview", lambda: workspace.engine_service().preview(profile_id))
    delivery = demo.fire_webhook(demo.bill_ids()[0], "bill.edited")
    capture.add("webhook delivery record", json.dumps(delivery, default=str))
    harvest.collect()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _cli(capture, db_url, zbsn_home, planted["webhook secret (config)"], *args)

    ok = cli("sync", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)  # real JSON came out
    for args in (
        ("audit", "--json", "--limit", "1000"),
        ("doctor", "--json"),
        ("config", "show", "--json"),
        ("preview", "--changed", "--json"),
        ("reconcile", "--json"),
    ):
        cli(*args)
    harvest.collect()

    # Trouble 1: ServiceNow's client secret is rotated elsewhere; the stored one is now wrong.
    demo.servicenow.set_oauth_client("planted-sn-client", f"rotated-{secrets.token_hex(8)}")
    demo.servicenow.tokens.reset()
    workspace.forget_clients()
    stopped = capture.call(
        "sync after ServiceNow secret change", lambda: workspace.engine_service().run(profile_id)
    )
    assert getattr(stopped, "status", None) == "reauth", stopped
    refused = cli("sync", "--json")
    assert refused.returncode != 0
    assert json.loads(refused.stdout)["status"] == "reauth"
    capture.call(
        "connect ServiceNow with a bad secret",
        lambda: workspace.connect_servicenow(
            demo.servicenow_url, "planted-sn-client", planted["servicenow bad secret"]
        ),
    )
    demo.servicenow.set_oauth_client("planted-sn-client", planted["servicenow client secret"])
    capture.call(
        "connect ServiceNow again",
        lambda: workspace.connect_servicenow(
            demo.servicenow_url, "planted-sn-client", planted["servicenow client secret"]
        ),
    )
    harvest.collect()

    # Trouble 2: Zoho revokes every refresh token mid-life.
    harvest.collect()
    assert demo.revoke_zoho() >= 1
    workspace.forget_clients()
    stopped = capture.call("sync after Zoho revoke", lambda: workspace.engine_service().run(profile_id))
    assert getattr(stopped, "status", None) == "reauth", stopped
    revoked = cli("sync", "--json")
    assert revoked.returncode != 0
    assert json.loads(revoked.stdout)["status"] == "reauth"
    cli("doctor", "--json")
    cli("audit", "--json", "--status", "failed")

    # Trouble 3: a Zoho exchange with a wrong client secret.
    profile = workspace.get_profile(profile_id)
    code = demo.zoho.self_client_code(client_id="1000.PLANTEDCLIENT")
    harvest.collect()
    capture.call(
        "Zoho self-client exchange with a bad secret",
        lambda: workspace.connect_zoho_self_client(
            code,
            "1000.PLANTEDCLIENT",
            planted["zoho bad secret"],
            demo.zoho.accounts_url,
            connection_id=profile.zoho_connection_id,
        ),
    )
    harvest.collect()

    # The console, as an operator sees it.
    svg = _screenshots(demo)
    capture.add("TUI screenshots", svg)

    for handler in logging.getLogger().handlers:
        handler.flush()
    assert harvest.tokens, "the sandboxes minted no tokens?"
    assert sum(1 for label in harvest.tokens if label.startswith("zoho")) >= 3
    assert sum(1 for label in harvest.tokens if label.startswith("servicenow")) >= 2
    needles = needles_for(planted, harvest.tokens)

    written = zbsn_home.parent  # ZBSN_HOME (logs, config, key file) and the SQLite database beside it
    findings, files = scan_tree(written, needles)
    assert log_file in files
    assert log_file.stat().st_size > 0
    if db_url.startswith("sqlite"):
        db_file = Path(sa.make_url(db_url).database or "")
        assert db_file in files  # the raw SQLite bytes (and any -wal / -journal beside it) were read
        findings += scan_bytes(f"{db_file} (re-read)", db_file.read_bytes(), needles)
    db_findings, rows = _scan_db(db_url, needles)
    assert rows > 100  # audit records, runs, connections, webhook events, ...
    findings += db_findings
    findings += scan_texts(capture.texts, needles)
    assert findings == []

    # Positive controls: the very same scans catch a secret and a token written on purpose.
    token_label, token = next(iter(harvest.tokens.items()))
    control = {"zoho client secret": planted["zoho client secret"], token_label: token}
    with log_file.open("a", encoding="utf-8") as raw:
        raw.write(f"Authorization: Zoho-oauthtoken {token}\n")  # bypasses redaction on purpose
    assert any(str(log_file) in f for f in scan_tree(written, needles_for({}, control))[0])
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE connection SET last_error = :leak"),
                {"leak": f"refused {planted['zoho client secret']}"},
            )
        db_control, _ = scan_database(engine, control)
    finally:
        engine.dispose()
    assert db_control == ["zoho client secret in table connection"]
    if db_url.startswith("sqlite"):
        assert any(str(db_file) in f for f in scan_tree(written, control)[0])
    assert scan_texts([("stdout", f"Bearer {token}")], needles_for({}, control)) != []


def _scan_db(db_url: str, needles: dict[str, str]) -> tuple[list[str], int]:
    engine = make_engine(db_url)
    try:
        return scan_database(engine, needles)
    finally:
        engine.dispose()


def _screenshots(demo: DemoHandle) -> str:
    from zbsn.tui.app import make_app

    async def shoot() -> str:
        app = make_app(services=demo.services, profile_id=demo.profile_id, serve=False)
        shots = []
        async with app.run_test(size=(140, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            shots.append(app.export_screenshot())
            for screen in ("connect", "audit"):
                await app.push_screen(screen)
                await pilot.pause(0.5)
                await app.workers.wait_for_complete()
                await pilot.pause()
                shots.append(app.export_screenshot())
        return "\n".join(shots)

    svg = _run_in_fresh_loop(shoot)
    assert svg.count("<svg") == 3
    return svg
