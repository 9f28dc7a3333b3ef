"""`zbsn vault …`: manage the data key that encrypts stored secrets."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from zbsn.core.cli.app import app, fail, note, state
from zbsn.core.db import migrate
from zbsn.core.vault import MASTER_KEY_ENV, VaultError, open_vault

vault_app = typer.Typer(help="Manage the data key.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")


@vault_app.command("rotate")
def rotate(
    ctx: typer.Context,
    print_new_key: Annotated[
        bool,
        typer.Option(
            "--print-new-key",
            help=f"When the key comes from {MASTER_KEY_ENV}: rotate anyway and print the new key to set.",
        ),
    ] = False,
) -> None:
    """Re-encrypt every stored secret under a new key, in one transaction."""
    cli = state(ctx)
    settings = cli.settings()
    try:
        engine = cli.engine()
        if not migrate.is_current(engine):
            fail("the database is not at the newest migration: run `zbsn db upgrade` first")
        vault = open_vault(engine, settings.keyring_service)
        result = vault.rotate(engine, allow_env_key_output=print_new_key)
    except (VaultError, sa.exc.SQLAlchemyError) as exc:
        fail(f"rotation failed, nothing was changed: {exc}")
    typer.echo(
        f"rotated {result.secrets_reencrypted} secrets: key {result.old_key_id} -> {result.new_key_id} "
        f"({result.key_source.value})"
    )
    if result.new_key_for_operator is not None:
        note(f"set {MASTER_KEY_ENV} to the new key below before the next start; the old key no longer works")
        typer.echo(f"{MASTER_KEY_ENV}={result.new_key_for_operator}")
