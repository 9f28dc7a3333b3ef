"""`zbsn db …`: database maintenance."""

from __future__ import annotations

import sqlalchemy as sa
import typer

from zbsn.core.cli.app import app, fail, state
from zbsn.core.db import migrate
from zbsn.core.settings import mask_url

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (creates the schema in an empty database)."""
    cli = state(ctx)
    url = mask_url(cli.database_url())
    try:
        engine = cli.engine()
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        fail(f"cannot upgrade {url}: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}")
    if before == after:
        typer.echo(f"{url}: already at revision {after}")
    else:
        typer.echo(f"{url}: upgraded {before or 'empty'} -> {after}")
