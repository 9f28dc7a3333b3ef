"""One line, on every console screen: both systems' token state and the Zoho request budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from zbsn.core.engine.events import BudgetChanged, Event, EventBus, TokenStatusChanged
from zbsn.tui.messages import EngineEventsArrived
from zbsn.tui.widgets.engine_feed import EngineFeed, subscribe
from zbsn.tui.widgets.formatting import duration, token_words, until
from zbsn.tui.widgets.repaint import set_text

EVENT_INTERVAL_S = 0.5  # the bar is a summary: two updates a second are plenty during a run


@dataclass
class TokenView:
    """What the bar knows about one system's token."""

    state: str = "unknown"
    expires_at_monotonic: float | None = None
    message: str | None = None

    @classmethod
    def from_event(cls, event: TokenStatusChanged) -> TokenView:
        expires = time.monotonic() + event.expires_in_s if event.expires_in_s is not None else None
        return cls(state=event.state, expires_at_monotonic=expires, message=event.message)

    def seconds_left(self) -> float | None:
        return None if self.expires_at_monotonic is None else self.expires_at_monotonic - time.monotonic()


def token_markup(name: str, token: TokenView, *, compact: bool) -> str:
    words, severity = token_words(token.state)
    left = token.seconds_left()
    refresh = f" · refresh {duration(left)}" if left is not None and severity == "success" else ""
    if compact:
        words = {"connected": "ok", "re-authorise needed": "RE-AUTH", "not connected": "off"}.get(
            words, words
        )
        refresh = f" {duration(left)}" if refresh else ""
    return f"{name} [${severity}]●[/] {words}{refresh}"


def budget_markup(budget: BudgetChanged | None, *, compact: bool) -> str:
    if budget is None:
        return "Zoho budget [dim]no requests yet[/]"
    used = f"{budget.used_this_window}/{budget.per_window_limit}"
    severity = (
        "error"
        if budget.paused_until
        else "warning"
        if budget.used_this_window >= budget.per_window_limit * 0.8
        else "success"
    )
    today = f"{budget.remaining_today:,} left today" if budget.remaining_today is not None else ""
    paused = f" · [$error]paused {until(budget.paused_until)}[/]" if budget.paused_until else ""
    per = "min" if round(budget.window_seconds) == 60 else f"{budget.window_seconds:g} s"
    if compact:
        return f"Budget [${severity}]{used}[/]/{per}{paused}"
    queue = f" · queue {budget.queue_depth}" if budget.queue_depth else ""
    shared = " (shared)" if budget.shared else ""  # the deployment's use: every process of it together
    return f"Zoho budget{shared} [${severity}]{used}[/] per {per} · {today}{queue}{paused}"


class StatusBar(Horizontal):
    """Token states and budget, updated from engine events; refreshes its countdowns every second.

    Engine events arrive at most twice a second, and a part is redrawn only when its text changed (with
    a re-layout only when its width changed: the token parts are as wide as their text).
    """

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    StatusBar > Static { width: auto; margin-right: 3; }
    StatusBar > #status-budget { width: 1fr; text-align: right; margin-right: 0; }
    """

    def __init__(self, bus: EventBus, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.bus = bus
        self.tokens: dict[str, TokenView] = {"zoho": TokenView(), "servicenow": TokenView()}
        self.budget: BudgetChanged | None = None
        self._feed: EngineFeed | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="status-zoho")
        yield Static(id="status-sn")
        yield Static(id="status-budget")

    def on_mount(self) -> None:
        for event in list(self.bus.history):
            if isinstance(event, TokenStatusChanged):
                self.tokens[event.system] = TokenView.from_event(event)
            elif isinstance(event, BudgetChanged):
                self.budget = event
        self._feed = subscribe(
            self,
            self.bus,
            lambda event: isinstance(event, TokenStatusChanged | BudgetChanged),
            interval=EVENT_INTERVAL_S,
        )
        self.set_interval(1.0, self.refresh_text)
        self.refresh_text()

    def on_resize(self) -> None:
        # The compact/wide choice depends on our width, which is 0 until the first layout: re-render
        # when it is known instead of waiting for the next timer tick.
        self.refresh_text()

    def on_unmount(self) -> None:
        if self._feed is not None:
            self._feed.close()

    def set_token(self, system: str, state: str, expires_in_s: float | None = None) -> None:
        """Seed a token state (e.g. from the workspace at start-up)."""
        expires = time.monotonic() + expires_in_s if expires_in_s is not None else None
        self.tokens[system] = TokenView(state=state, expires_at_monotonic=expires)
        self.refresh_text()

    def catch_up(self) -> None:
        """Take the events waiting for the next tick now (when a run ends, so its end state shows)."""
        if self._feed is not None:
            self._take(self._feed.flush())

    @on(EngineEventsArrived)
    def engine_events(self, message: EngineEventsArrived) -> None:
        self._take(message.drain())

    def _take(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, TokenStatusChanged):
                self.tokens[event.system] = TokenView.from_event(event)
            elif isinstance(event, BudgetChanged):
                self.budget = event
        self.refresh_text()

    def refresh_text(self) -> None:
        if not self.is_attached or len(self.children) < 3:
            # its screen is being removed (the operator switched screens), or a resize or event came while
            # the three are still being mounted (on_mount and the 1 s timer draw them once they are)
            return
        compact = bool(self.size.width and self.size.width < 110)
        self._show(
            self.query_one("#status-zoho", Static), token_markup("Zoho", self.tokens["zoho"], compact=compact)
        )
        self._show(
            self.query_one("#status-sn", Static),
            token_markup("ServiceNow", self.tokens["servicenow"], compact=compact),
        )
        set_text(self.query_one("#status-budget", Static), budget_markup(self.budget, compact=compact))

    @staticmethod
    def _show(part: Static, markup: str) -> None:
        """An auto-width part: re-layout only when the new text is wider or narrower than the old."""
        old = part.content
        width = Content.from_markup(markup).cell_length
        resized = not isinstance(old, str) or Content.from_markup(old).cell_length != width
        set_text(part, markup, layout=resized)
