"""The zbsn console App and its one factory, `make_app` (what zbsn-tui, --demo, the tests and the screenshot
script all build the console with)."""

from __future__ import annotations

import logging

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import HelpPanel

from zbsn.core.services import Services, open_services
from zbsn.core.settings import Settings, load_settings
from zbsn.tui.navigation import install as install_console
from zbsn.tui.profile_memory import ProfileMemory
from zbsn.tui.screens.home import HomeScreen
from zbsn.tui.screens.services import ConsoleContext, SandboxControl, announce_token_states, core_loop

log = logging.getLogger(__name__)


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
        self, context: ConsoleContext, *, owns_services: bool = False, screen: str | None = None
    ) -> None:
        super().__init__()
        self.context = context
        self._owns_services = owns_services
        self._first_screen = screen
        install_console(self, context)

    def on_mount(self) -> None:
        if self._first_screen is not None:
            self.action_console_go(self._first_screen)  # type: ignore[attr-defined]

    @property
    def settings(self) -> Settings:
        """The settings the console was built with."""
        return self.context.services.settings

    def get_default_screen(self) -> Screen[None]:
        return HomeScreen(self.context)

    def action_toggle_help(self) -> None:
        """Show or hide the key-binding help panel."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def on_unmount(self) -> None:
        serve = self.context.serve
        if serve is not None:
            core_loop().call_soon(serve.request_stop)
        if self._owns_services:
            self.context.services.close()


def make_app(
    db: str | None = None,
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    profile_id: int | None = None,
    sandbox: SandboxControl | None = None,
    serve: bool | None = None,
    export_dir: str | None = None,
    screen: str | None = None,
) -> ZbsnApp:
    """Build the console on a database (its URL; default from settings/env/SQLite file).

    Everything comes from the composition root (`zbsn.core.services.open_services`): the database migrated
    to the newest schema, the vault, the workspace, the engine and the schedules. The profile is the one
    given, else the one last used on this database, else the first. With `serve` (default: when the
    settings name a webhook secret) the console runs the scheduler and the webhook receiver in the
    background, as `zbsn serve` does. `sandbox` is set only by the demo. `screen` opens a console screen
    ("connect", "preview", "run", "audit", "profiles") over the home screen.
    """
    owns = services is None
    if services is None:
        services = open_services(settings if settings is not None else load_settings(), db)
    memory = ProfileMemory.for_database(services.database_key)
    context = ConsoleContext(
        services=services,
        profile_id=_initial_profile(services, profile_id, memory),
        sandbox=sandbox,
        export_dir=export_dir,
        remember_profile=memory.remember,
    )
    wanted = serve if serve is not None else services.settings.webhook.secret is not None
    if wanted:
        start_serving(context)
    seed_token_states(context)
    return ZbsnApp(context, owns_services=owns, screen=screen)


def _initial_profile(services: Services, given: int | None, memory: ProfileMemory) -> int | None:
    profiles = {view.id for view in services.workspace.list_profiles()}
    for candidate in (given, memory.recall()):
        if candidate is not None and candidate in profiles:
            return candidate
    return min(profiles) if profiles else None


def start_serving(context: ConsoleContext) -> None:
    """Run the scheduler and the webhook receiver on the core loop (as `zbsn serve`); a receiver that cannot
    listen (its port taken by a running `zbsn serve`, say) is reported on the Run screen."""
    runtime = context.services.serve_runtime()
    context.serve = runtime
    loop = core_loop()
    loop.submit(runtime.serve())

    async def started() -> None:
        await runtime.wait_started(15)

    try:
        loop.submit(started()).result(20)
    except Exception as exc:  # the port is taken, or the receiver could not start: say why, keep going
        log.warning("the console's webhook receiver did not start: %s", exc)
        context.serve_problem = f"{type(exc).__name__}: {exc}"


def seed_token_states(context: ConsoleContext) -> None:
    """Put the profile's token states on the bus, so every screen's status bar starts with the truth."""
    announce_token_states(context)
