"""The zbsn console App and its one factory, `make_app` (used by zbsn-tui, tests, --demo, screenshots)."""

from __future__ import annotations

import sqlalchemy as sa
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import HelpPanel

from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, resolve_database_url
from zbsn.core.settings import Settings, load_settings
from zbsn.tui.navigation import install as install_console
from zbsn.tui.screens.home import HomeScreen
from zbsn.tui.screens.services import ConsoleContext


class ZbsnApp(App[None]):
    """The operator console: a router over screens, each a thin view on zbsn.core."""

    CSS_PATH = "app.tcss"
    TITLE = "zbsn"
    SUB_TITLE = "Zoho Books → ServiceNow accounts payable"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "toggle_help", "Help", key_display="?"),
        Binding("d", "toggle_dark", "Dark/Light"),
    ]

    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        *,
        owns_engine: bool = False,
        console: ConsoleContext | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self._owns_engine = owns_engine
        install_console(self, console or ConsoleContext(db=engine))

    def get_default_screen(self) -> Screen[None]:
        context: ConsoleContext = self.console_context  # type: ignore[attr-defined]
        return HomeScreen(self.engine, demo=context.demo is not None)

    def action_toggle_help(self) -> None:
        """Show or hide the key-binding help panel."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def on_unmount(self) -> None:
        if self._owns_engine:
            self.engine.dispose()


def make_app(
    db: sa.Engine | str | None = None,
    settings: Settings | None = None,
    *,
    apply_migrations: bool = True,
    console: ConsoleContext | None = None,
) -> ZbsnApp:
    """Build the console for a database (engine or URL; default from settings/env/SQLite file).

    Migrations are applied before the App starts, so every screen sees the current schema.
    """
    settings = settings if settings is not None else load_settings()
    if isinstance(db, sa.Engine):
        engine, owns_engine = db, False
    else:
        engine, owns_engine = make_engine(resolve_database_url(db or settings.database_url)), True
    if apply_migrations:
        migrate.upgrade(engine)
    return ZbsnApp(engine, settings, owns_engine=owns_engine, console=console)
