"""Every profile at a glance (`zbsn.core.profile_status`, `zbsn status`): last run, failures, token states."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from tests.core.audit_seed import seed_audit
from zbsn.core.cli.main import app
from zbsn.core.profile_status import profile_statuses
from zbsn.core.services import open_services
from zbsn.core.settings import Settings

runner = CliRunner()


def test_statuses_group_every_profile_in_two_queries(engine: sa.Engine) -> None:
    seeded = seed_audit(engine, records=50, runs=3, failed_every=5)
    services = open_services(Settings(), engine)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        [status] = profile_statuses(services.workspace)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert status.profile.id == seeded.profile_id
    assert status.last_run is not None
    assert status.last_run.run_id == max(seeded.run_ids)
    assert status.failed_records == 10  # every 5th of 50
    assert sum(status.records.values()) == 50
    # the seed marks both connections connected, but its Zoho row holds no refresh token
    assert status.tokens == {"zoho": "not connected", "servicenow": "ok"}
    assert status.needs_attention
    audit_reads = [s for s in statements if "audit_record" in s]
    assert len(audit_reads) == 1  # grouped, not one query per profile


def test_zbsn_status_json_and_exit_code(sqlite_engine: sa.Engine) -> None:
    seed_audit(sqlite_engine, records=20, runs=1)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "status", "--json"])
    assert result.exit_code == 1, result.output  # failed records: needs attention
    [profile] = json.loads(result.stdout)
    assert profile["failed_records"] == 4
    assert profile["last_run"]["status"] == "completed_with_failures"
    assert profile["needs_attention"] is True
    assert "secret" not in result.stdout.lower()
