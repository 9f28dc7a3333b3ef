"""Entry point of the `zbsn` console script: imports every command module so each registers on `app`."""

from __future__ import annotations

from zbsn.core.cli import (
    cmd_audit,
    cmd_connect,
    cmd_preview,
    cmd_profile,
    cmd_reconcile,
    cmd_refresh,
    cmd_replay,
    cmd_sandbox,
    cmd_schedule,
    cmd_serve,
    cmd_status,
    cmd_sync,
    cmd_worker,
    config,
    db,
    doctor,
    vault,
)
from zbsn.core.cli.app import app

COMMAND_MODULES = (config, db, doctor, vault)
RUNTIME_COMMAND_MODULES = (
    cmd_audit,
    cmd_connect,
    cmd_preview,
    cmd_profile,
    cmd_reconcile,
    cmd_refresh,
    cmd_replay,
    cmd_sandbox,
    cmd_schedule,
    cmd_serve,
    cmd_status,
    cmd_sync,
    cmd_worker,
)


def run() -> None:
    """Run the CLI (console script `zbsn`)."""
    app(prog_name="zbsn")


if __name__ == "__main__":
    run()
