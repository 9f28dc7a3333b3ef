"""The reconciliation report for one month: Zoho's bills and payments against ServiceNow staging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Regex
from textual.widgets import Button, Input, Static

from zbsn.tui.messages import CoreCallFailed, ReconciliationLoaded
from zbsn.tui.screens.services import ConsoleContext, call_core, describe_error
from zbsn.tui.widgets.reconciliation_view import render_reconciliation

PERIOD = Regex(r"^\d{4}-\d{2}$", failure_description="Use yyyy-mm, e.g. 2025-03")


def month_bounds(period: str) -> tuple[date, date]:
    """First and last day of a yyyy-mm month."""
    first = datetime.strptime(period + "-01", "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar date
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


class ReconcileModal(ModalScreen[None]):
    """Pick a period, build the report, read it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_modal", "Close")]
    DEFAULT_CSS = """
    ReconcileModal { align: center middle; }
    ReconcileModal > Vertical {
        width: 110;
        max-width: 98%;
        height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ReconcileModal #reconcile-form { height: 3; }
    ReconcileModal #reconcile-period { width: 20; }
    ReconcileModal #reconcile-body { height: 1fr; }
    ReconcileModal #reconcile-help { color: $text-muted; height: auto; }
    """

    def __init__(self, context: ConsoleContext, period: str | None = None) -> None:
        super().__init__()
        self.context = context
        self.period = period or datetime.now(UTC).strftime("%Y-%m")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Reconciliation report[/b]")
            yield Static(
                "Compares the bills and payments Zoho Books has for a month with what ServiceNow "
                "staging holds, "
                "and lists what is missing on either side.",
                id="reconcile-help",
            )
            with Horizontal(id="reconcile-form"):
                yield Input(self.period, placeholder="yyyy-mm", validators=[PERIOD], id="reconcile-period")
                yield Button("Build report", variant="primary", id="reconcile-build")
                yield Button("Close", id="reconcile-close")
            with VerticalScroll(id="reconcile-body"):
                yield Static("Choose a month and press Build report.", id="reconcile-result")

    @on(Button.Pressed, "#reconcile-close")
    def action_dismiss_modal(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#reconcile-build")
    @on(Input.Submitted, "#reconcile-period")
    def build(self) -> None:
        period_input = self.query_one("#reconcile-period", Input)
        if not period_input.is_valid:
            self.notify("The period is a month: yyyy-mm, e.g. 2025-03.", severity="warning")
            return
        if self.context.profile_id is None:
            self.query_one("#reconcile-result", Static).update(
                "No sync profile yet: create one on Profiles (F6) first."
            )
            return
        self.query_one("#reconcile-result", Static).update(f"Building the report for {period_input.value}…")
        self.run_report(period_input.value)

    @work(exclusive=True, group="reconcile", exit_on_error=False)
    async def run_report(self, period: str) -> None:
        try:
            start, end = month_bounds(period)
            report = await call_core(
                self.context.engine_service.reconcile, self.context.profile_id, start, end
            )
        except Exception as error:
            self.post_message(CoreCallFailed("build the reconciliation report", describe_error(error)))
            return
        self.post_message(ReconciliationLoaded(period, report))

    @on(ReconciliationLoaded)
    def report_loaded(self, message: ReconciliationLoaded) -> None:
        self.query_one("#reconcile-result", Static).update(render_reconciliation(message.report))

    @on(CoreCallFailed)
    def failed(self, message: CoreCallFailed) -> None:
        self.query_one("#reconcile-result", Static).update(
            f"[red]Could not {message.action}:[/] {message.error}"
        )
