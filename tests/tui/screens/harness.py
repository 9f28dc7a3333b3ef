"""A minimal host app for the console screens: the same `install` call the real app factory makes."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from zbsn.tui.navigation import install
from zbsn.tui.screens.services import ConsoleContext


class HomeStub(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("Home (the foundation's home screen goes here)")
        yield Footer()


class HarnessApp(App[None]):
    """Starts on a stub home screen, then optionally opens one console screen."""

    def __init__(self, context: ConsoleContext, start: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.start = start
        self.theme = "textual-dark"
        install(self, context)

    def on_mount(self) -> None:
        self.push_screen(HomeStub())
        if self.start:
            self.action_console_go(self.start)  # type: ignore[attr-defined]
