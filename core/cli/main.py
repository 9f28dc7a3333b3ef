"""Entry point of the `zbsn` console script: imports every command module so each registers on `app`."""

from __future__ import annotations

from zbsn.core.cli import config, db, doctor, vault
from zbsn.core.cli.app import app

COMMAND_MODULES = (config, db, doctor, vault)


def run() -> None:
    """Run the CLI (console script `zbsn`)."""
    app(prog_name="zbsn")


if __name__ == "__main__":
    run()
