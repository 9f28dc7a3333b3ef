"""The Zoho request budget as a gauge with a short history: the run screen's 'are we being throttled?'.

Zoho counts an organization's requests across every client (zoho-ref §6). When the budget is shared through
the database (`budget_store`, the default) the gauge shows the deployment's use of the org, every zbsn process
together (as the All profiles screen does), says so in its title, and splits it into this console's requests
and the other processes'; core does not record how many processes those are, so the gauge does not say.
"""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Sparkline, Static

from zbsn.core.engine.events import BudgetChanged
from zbsn.tui.widgets.formatting import until
from zbsn.tui.widgets.repaint import set_text

HISTORY = 60


def window_words(window_seconds: float) -> str:
    """'this minute' for Zoho's real window; the demo's shortened window says so plainly."""
    if round(window_seconds) == 60:
        return "this minute"
    return f"in this {window_seconds:g} s window"


def budget_title(shared: bool) -> str:
    """The gauge's title: whose requests it counts."""
    if shared:
        return "Zoho request budget · shared by all processes"
    return "Zoho request budget · this console only (not shared)"


def who_used(event: BudgetChanged) -> list[str]:
    """`this console 40`, `other processes 22`, `~5 by other Zoho clients`: who used the window (what core
    knows of it)."""
    words = []
    if event.shared and event.own_this_window is not None:
        others = max(0, event.used_this_window - event.own_this_window)
        words += [f"this console {event.own_this_window}", f"other processes {others}"]
    if event.others_per_window >= 0.5:
        words.append(f"~{event.others_per_window:.0f} by other Zoho clients")
    return words


class BudgetGauge(Vertical):
    """Requests this window vs the limit, what is left today, time to reset, the queue, and a sparkline.

    Fixed height (one more line while Zoho has paused us) and one-line parts: an update only repaints.
    """

    DEFAULT_CSS = """
    BudgetGauge {
        height: 6; border: round $primary-darken-2; border-title-color: $text; padding: 0 1;
    }
    BudgetGauge.-paused { height: 7; }
    BudgetGauge Horizontal { height: 1; }
    BudgetGauge ProgressBar { width: 1fr; height: 1; }
    BudgetGauge ProgressBar Bar { width: 1fr; }
    BudgetGauge #budget-used { width: 24; height: 1; }
    BudgetGauge Sparkline { height: 1; width: 1fr; }
    BudgetGauge #budget-history-label { width: 22; height: 1; color: $text-muted; }
    BudgetGauge #budget-detail { height: 1; color: $text-muted; }
    BudgetGauge #budget-who { height: 1; color: $text-muted; }
    BudgetGauge #budget-paused { height: 1; color: $error; display: none; }
    BudgetGauge.-paused #budget-paused { display: block; }
    """

    def __init__(self, *, shared: bool = True, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = budget_title(shared)  # the settings' word until the first request says
        self.history: deque[float] = deque([0.0] * 2, maxlen=HISTORY)
        self.latest: BudgetChanged | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("no requests yet", id="budget-used")
            yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="budget-bar")
        with Horizontal():
            yield Label("last minutes", id="budget-history-label")
            yield Sparkline(list(self.history), id="budget-history")
        yield Static("Zoho allows a fixed number of requests per minute and per day.", id="budget-detail")
        yield Static("Zoho counts every client of the organization.", id="budget-who")
        yield Static("", id="budget-paused")

    def show(self, event: BudgetChanged) -> None:
        """Render one budget update."""
        self.latest = event
        self.history.append(float(event.used_this_window))
        bar = self.query_one("#budget-bar", ProgressBar)
        total = max(event.per_window_limit, 1)
        if bar.total != total or bar.progress != event.used_this_window:
            bar.update(total=total, progress=event.used_this_window)
        set_text(
            self.query_one("#budget-used", Label),
            f"{event.used_this_window} / {event.per_window_limit} {window_words(event.window_seconds)}",
        )
        self.query_one("#budget-history", Sparkline).data = list(self.history)
        today = (
            f"{event.remaining_today:,} of {event.daily_limit:,} left today"
            if event.remaining_today is not None and event.daily_limit
            else "daily allowance unknown"
        )
        parts = [
            today,
            f"resets in {until(event.reset_at)}",
            f"queue {event.queue_depth}",
            f"in flight {event.in_flight}",
        ]
        set_text(self.query_one("#budget-detail", Static), " · ".join(parts))
        who = who_used(event)
        set_text(self.query_one("#budget-who", Static), " · ".join(who) if who else "only this console")
        self.border_title = budget_title(event.shared)
        paused = event.paused_until is not None
        self.set_class(paused, "-paused")  # a layout, but only when the pause starts or ends
        if paused:
            reason = event.pause_reason or "Zoho asked us to slow down"
            set_text(
                self.query_one("#budget-paused", Static),
                f"Paused for {until(event.paused_until)}: {reason}. The run resumes by itself.",
            )
