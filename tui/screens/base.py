"""The frame of every console screen: a title, a line saying what is going on, the status bar, the footer."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from zbsn.tui.screens.services import ConsoleContext
from zbsn.tui.widgets.status_bar import StatusBar

NAVIGATION_BINDINGS: list[BindingType] = [
    Binding("f1", "go('help')", "Help", key_display="F1"),
    Binding("f2", "go('connect')", "Connect", key_display="F2"),
    Binding("f3", "go('preview')", "Preview", key_display="F3"),
    Binding("f4", "go('run')", "Run", key_display="F4"),
    Binding("f5", "go('audit')", "Audit", key_display="F5"),
    Binding("f6", "go('profiles')", "Profiles", key_display="F6"),
    Binding("escape", "go('home')", "Home", show=False),
]


class ConsoleScreen(Screen[None]):
    """Base of Connect, Preview, Run and Audit: subclasses implement `compose_body`."""

    TITLE_TEXT: ClassVar[str] = ""
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = []  # (key, what it does) for the help screen
    BINDINGS: ClassVar[list[BindingType]] = NAVIGATION_BINDINGS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    DEFAULT_CSS = """
    ConsoleScreen { layout: vertical; }
    ConsoleScreen > #screen-title {
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    ConsoleScreen > #screen-hint { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    ConsoleScreen > #screen-body { height: 1fr; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.context = context
        self.shown_profile_id = context.profile_id  # the profile this screen's content belongs to

    def on_screen_resume(self) -> None:
        if self.context.profile_id != self.shown_profile_id:
            self.shown_profile_id = self.context.profile_id
            self.profile_changed()

    def profile_changed(self) -> None:
        """The console now works on another profile (chosen on Profiles): reload what this screen shows."""

    def compose(self) -> ComposeResult:
        yield Static(f"zbsn · {self.TITLE_TEXT}", id="screen-title")
        yield Static("", id="screen-hint")
        with Vertical(id="screen-body"):
            yield from self.compose_body()
        yield StatusBar(self.context.bus, id="status-bar")
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_hint(self, text: str) -> None:
        """The one line under the title: what is going on and what to do next."""
        self.query_one("#screen-hint", Static).update(text)

    def action_go(self, destination: str) -> None:
        from zbsn.tui.navigation import show

        show(self.app, destination)
