"""`zbsn config …`: inspect the effective configuration."""

from __future__ import annotations

from typing import Annotated, Any

import tomlkit
import typer

from zbsn.core.cli.app import app, emit_json, state
from zbsn.core.settings import default_config_path

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _without_nones(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _without_nones(value) if isinstance(value, dict) else value
        for key, value in data.items()
        if value is not None
    }


@config_app.command("show")
def show(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings (file + environment + defaults), secrets masked."""
    cli = state(ctx)
    data = cli.settings().public_dict()
    path = cli.config_path or default_config_path()
    if json_output:
        emit_json({"config_file": str(path), "config_file_exists": path.is_file(), "settings": data})
        return
    origin = "" if path.is_file() else " (not present: defaults and environment only)"
    typer.echo(f"# config file: {path}{origin}")
    typer.echo(tomlkit.dumps(_without_nones(data)).rstrip())
