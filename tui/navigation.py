"""Wiring of the console screens into the app: one call from the app factory (`zbsn.tui.app.make_app`).

    from zbsn.tui.navigation import install
    install(app, context)   # the ConsoleContext make_app built from the composition root

It installs the Connect, Preview, Run, Audit, Profiles and All profiles screens (named "connect", "preview",
"run", "audit", "profiles", "overview"), binds F1-F7 and Ctrl+T on the app, adds the command-palette
provider listing every console action, and keeps the context on `app.console_context` for the provider.
Screens are pushed on top of the app's own home screen, so Esc (or "home") always gets back to it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider

from zbsn.tui.screens.audit import AuditScreen
from zbsn.tui.screens.base import ConsoleScreen
from zbsn.tui.screens.connect import ConnectScreen
from zbsn.tui.screens.help import GLOBAL_KEYS, HelpScreen
from zbsn.tui.screens.overview import OverviewScreen
from zbsn.tui.screens.preview import PreviewScreen
from zbsn.tui.screens.profiles import ProfilesScreen
from zbsn.tui.screens.run import RunScreen
from zbsn.tui.screens.services import ConsoleContext

SCREENS: dict[str, type[ConsoleScreen]] = {
    "connect": ConnectScreen,
    "preview": PreviewScreen,
    "run": RunScreen,
    "audit": AuditScreen,
    "profiles": ProfilesScreen,
    "overview": OverviewScreen,
}
SCREEN_TITLES = {
    "connect": "Connect",
    "preview": "Preview",
    "run": "Run",
    "audit": "Audit",
    "profiles": "Profiles",
    "overview": "All profiles",
}

# (title, help, screen, action on that screen or None)
COMMANDS: list[tuple[str, str, str, str | None]] = [
    ("Connect: open", "Authorise Zoho Books and ServiceNow; see token states", "connect", None),
    (
        "Connect: authorise Zoho in the browser",
        "Opens Zoho's consent page and catches the redirect",
        "connect",
        "zoho_browser",
    ),
    (
        "Connect: use a Zoho self-client code",
        "Paste a code generated in Zoho's API console",
        "connect",
        "zoho_self_client",
    ),
    (
        "Connect: test ServiceNow",
        "Check the instance URL and client credentials",
        "connect",
        "test_servicenow",
    ),
    (
        "Preview: open",
        "What a run would send; unmapped cost centers, GL accounts, suppliers",
        "preview",
        None,
    ),
    ("Preview: reload", "Read Zoho and ServiceNow again", "preview", "reload"),
    (
        "Preview: edit the mapping override",
        "Map the highlighted Zoho value to a ServiceNow value",
        "preview",
        "edit_override",
    ),
    ("Preview: export bills to CSV", "Write the invoices-to-be to a CSV file", "preview", "export_csv"),
    ("Run: open", "Progress, Zoho budget, event log, schedules", "run", None),
    (
        "Run: start (changed since last run)",
        "Send what changed in Zoho since the last run",
        "run",
        "start_changed",
    ),
    (
        "Run: start a full run",
        "Re-check every record (slower; uses more of the Zoho budget)",
        "run",
        "start_full",
    ),
    ("Run: cancel", "Stop the running sync after the record in flight", "run", "cancel_run"),
    ("Schedules: add", "Run automatically on a cron schedule", "run", "add_schedule"),
    ("Schedules: edit the highlighted one", "Change its cron or mode", "run", "edit_schedule"),
    ("Schedules: enable or disable", "Pause or resume the highlighted schedule", "run", "toggle_schedule"),
    ("Audit: open", "Every record sent, failures and their attempts", "audit", None),
    ("Audit: failed records only", "Filter the audit log to failures", "audit", "toggle_failed"),
    ("Audit: replay selected", "Send the selected failed records again", "audit", "replay_selected"),
    (
        "Audit: replay all failed in this filter",
        "Send every failed record in the current filter again",
        "audit",
        "replay_all_failed",
    ),
    (
        "Audit: refresh ServiceNow statuses",
        "Read where every followed invoice stands in ServiceNow now",
        "audit",
        "refresh_statuses",
    ),
    ("Audit: reconciliation report", "Zoho vs ServiceNow staging for a month", "audit", "reconcile"),
    ("Audit: clear filters", "Show every record", "audit", "clear_filters"),
    (
        "Profiles: open",
        "Pair a Zoho organization with a ServiceNow instance; switch profiles",
        "profiles",
        None,
    ),
    ("Profiles: new profile", "Create a sync profile", "profiles", "new_profile"),
    (
        "Profiles: edit the highlighted profile",
        "Change its organization, instance, cost centers",
        "profiles",
        "edit_profile",
    ),
    (
        "Profiles: work on the highlighted profile",
        "Preview, Run and Audit show it",
        "profiles",
        "use_profile",
    ),
    (
        "All profiles: open",
        "Every org's state, last run, failures and shared Zoho budget; filter and jump (F7)",
        "overview",
        None,
    ),
    ("All profiles: attention only", "Only profiles needing the operator", "overview", "toggle_attention"),
]
# Only when the console runs the demo (`ConsoleContext.demo` set): the story's "fix it in ServiceNow" step.
DEMO_COMMANDS: list[tuple[str, str, str, str | None]] = [
    (
        "Demo: create the missing cost center in ServiceNow",
        "Creates the highlighted (or next) missing cost center in the ServiceNow sandbox and re-matches",
        "preview",
        "demo_create_cost_center",
    ),
]


def commands_for(app: App[Any]) -> list[tuple[str, str, str, str | None]]:
    """The palette's console commands: every screen action, plus the demo's when the demo runs."""
    context = getattr(app, "console_context", None)
    demo = isinstance(context, ConsoleContext) and context.sandbox is not None
    return [*COMMANDS, *DEMO_COMMANDS] if demo else list(COMMANDS)


def install(app: App[Any], context: ConsoleContext) -> None:
    """Install the console screens, keys and palette commands on `app`."""
    app.console_context = context  # type: ignore[attr-defined]
    for name, screen_class in SCREENS.items():
        app.install_screen(screen_class(context, name=name), name=name)
    app.action_console_go = partial(show, app)  # type: ignore[attr-defined]
    app.action_console_toggle_theme = partial(toggle_theme, app)  # type: ignore[attr-defined]
    app.bind("f1", "console_go('help')", description="Help", key_display="F1", show=False)
    app.bind("f2", "console_go('connect')", description="Connect", key_display="F2", show=False)
    app.bind("f3", "console_go('preview')", description="Preview", key_display="F3", show=False)
    app.bind("f4", "console_go('run')", description="Run", key_display="F4", show=False)
    app.bind("f5", "console_go('audit')", description="Audit", key_display="F5", show=False)
    app.bind("f6", "console_go('profiles')", description="Profiles", key_display="F6", show=False)
    app.bind("f7", "console_go('overview')", description="All profiles", key_display="F7", show=False)
    app.bind("ctrl+t", "console_toggle_theme", description="Theme", show=False)
    app.COMMANDS = {*type(app).COMMANDS, ConsoleCommands}  # type: ignore[misc]


def show(app: App[Any], destination: str) -> None:
    """Bring a console screen (or "help", or "home") to the front."""
    if destination == "help":
        app.push_screen(HelpScreen(help_sections(app)))
        return
    if destination == "home":
        while len(app.screen_stack) > 1 and isinstance(app.screen, ConsoleScreen):
            app.pop_screen()
        return
    if isinstance(app.screen, ConsoleScreen):
        if app.screen is not app.get_screen(destination):
            app.switch_screen(destination)
    else:
        app.push_screen(destination)


def run_on(app: App[Any], destination: str, action: str | None) -> None:
    """Go to a screen and run one of its actions (what a palette command does)."""
    show(app, destination)
    if action is not None:
        screen = app.get_screen(destination)
        app.call_after_refresh(screen.run_action, action)


def toggle_theme(app: App[Any]) -> None:
    """Dark ↔ light, keeping the textual theme family."""
    app.theme = "textual-light" if app.current_theme.dark else "textual-dark"


def help_sections(app: App[Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The current screen's keys first, then the global keys, then the other screens'."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    current = app.screen.name if isinstance(app.screen, ConsoleScreen) else None
    order = sorted(SCREENS, key=lambda name: name != current)
    context = getattr(app, "console_context", None)
    demo = isinstance(context, ConsoleContext) and context.sandbox is not None

    def keys(name: str) -> list[tuple[str, str]]:  # demo-only keys exist only in the demo
        return [(key, text) for key, text in SCREENS[name].KEYS_HELP if demo or not text.startswith("Demo:")]

    for name in order:
        sections.append((SCREEN_TITLES[name], keys(name)))
        if name == current:
            sections.append(("Everywhere", GLOBAL_KEYS))
    if current is None:
        sections.insert(0, ("Everywhere", GLOBAL_KEYS))
    return sections


class ConsoleCommands(Provider):
    """Every console action, by name, in the command palette."""

    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app = self.app
        entries: list[tuple[str, str, Callable[[], None]]] = [
            (title, help_text, partial(run_on, app, screen, action))
            for title, help_text, screen, action in commands_for(app)
        ]
        entries.append(("Help: keys for every screen", "F1", partial(show, app, "help")))
        entries.append(("Theme: switch dark / light", "Ctrl+T", partial(toggle_theme, app)))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
