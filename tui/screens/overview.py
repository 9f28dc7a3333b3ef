"""All profiles: every organization of a firm at a glance, kept live, to find the one that needs the operator.

One row per profile: what is at work on it now (a run, jobs queued for the workers), its last run, its
failed records, how many of its invoices stand in each ServiceNow status (exceptions found and postings in
error highlighted: like failed records, they make the profile need attention), its org's Zoho budget as
every process of the deployment uses it (the shared window, not this console's share), and its tokens.
`/` filters by name, organization or state, `a` shows only the profiles that need attention, Enter works on
the highlighted profile and opens its Run screen. The rows are read again every `REFRESH_S` seconds
while the screen is shown (`zbsn status --json` gives the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input

from zbsn.core.budget_store import OrgUse
from zbsn.core.profile_status import ATTENTION_SERVICENOW_STATUSES, ProfileStatus, profile_statuses
from zbsn.tui.messages import CoreCallFailed
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.profiles import LAST_RUN_WORDS
from zbsn.tui.screens.services import ConsoleContext, announce_token_states, call_core

REFRESH_S = 5.0
COLUMNS = (
    ("active", ""),
    ("name", "Profile"),
    ("org", "Zoho organization"),
    ("state", "Now"),
    ("last", "Last run"),
    ("failed", "Failed"),
    ("servicenow", "In ServiceNow"),
    ("budget", "Zoho budget (all processes)"),
    ("tokens", "Tokens"),
)
STATE_STYLES = {"running": "bold cyan", "queued": "yellow", "idle": "dim"}
# ServiceNow statuses as the column abbreviates them (an unknown one shows as stored).
SERVICENOW_SHORT = {
    "draft": "draft",
    "exceptions_found": "exc",
    "pending_approval": "pend",
    "approved": "appr",
    "posting_failed": "post err",
    "posted": "posted",
    "paid": "paid",
    "canceled": "canc",
    "other": "other",
    "not_found": "gone",
}


@dataclass
class StatusesLoaded(Message):
    """Every profile's status, read again."""

    statuses: list[ProfileStatus]


def budget_cell(use: OrgUse | None, limit: int) -> Text:
    """`73/100 · 2 in flight`, red near the limit, or the pause and its reason."""
    if use is None:
        return Text("no requests yet", style="dim")
    if use.paused_for > 0:
        return Text(f"paused {use.paused_for:.0f} s ({use.pause_reason or 'Zoho said so'})", style="bold red")
    share = use.used / limit
    style = "red" if share >= 0.9 else "yellow" if share >= 0.7 else "green"
    text = Text(f"{use.used}/{limit}", style=style)
    if use.in_flight:
        text.append(f" · {use.in_flight} in flight", style="dim")
    if use.remaining_today is not None:
        text.append(f" · {use.remaining_today:,} left today", style="dim")
    return text


def state_cell(status: ProfileStatus) -> Text:
    """`running`, `queued 2`, `running +1 queued` or `idle`."""
    text = Text(status.state, style=STATE_STYLES.get(status.state, ""))
    if status.queued:
        text.append(f" {status.queued}" if status.state == "queued" else f" +{status.queued} queued")
    return text


def servicenow_cell(status: ProfileStatus) -> Text:
    """`3 exc·12 appr·40 paid` in lifecycle order (tight: 160 columns show the whole table), what waits for
    someone in bold red; `—` while none is followed."""
    if not status.servicenow:
        return Text("—", style="dim")
    text = Text()
    for n, (name, count) in enumerate(status.servicenow_counts):
        if n:
            text.append("·", style="dim")
        waiting = name in ATTENTION_SERVICENOW_STATUSES
        text.append(f"{count:,} {SERVICENOW_SHORT.get(name, name)}", style="bold red" if waiting else "")
    return text


def overview_cells(status: ProfileStatus, *, active: bool, limit: int) -> list[str | Text]:
    """One row of the all-profiles table."""
    view = status.profile
    run = status.last_run
    if run is None:
        last: str | Text = Text("never", style="dim")
    else:
        word, style = LAST_RUN_WORDS.get(run.status, (run.status.replace("_", " "), "yellow"))
        last = Text(f"{word} {run.started_at:%m-%d %H:%M}", style=style)
    bad = [system for system, state in status.tokens.items() if state != "ok"]
    return [
        Text("▶", style="bold green") if active else "",
        Text(view.name, style="bold red" if status.needs_attention else ""),
        view.organization_name or view.organization_id or "—",
        state_cell(status),
        last,
        Text(f"{status.failed_records:,}", style="bold red" if status.failed_records else "dim"),
        servicenow_cell(status),
        budget_cell(status.budget, limit),
        Text("ok", style="green") if not bad else Text(" ".join(f"{s}!" for s in bad), style="bold red"),
    ]


def matches(status: ProfileStatus, wanted: str, *, attention_only: bool) -> bool:
    """Whether the filter (words of name, organization or state; attention only) keeps this profile."""
    if attention_only and not status.needs_attention:
        return False
    view = status.profile
    haystack = f"{view.name} {view.organization_name or ''} {view.organization_id or ''} {status.state}"
    return all(word in haystack.casefold() for word in wanted.casefold().split())


class OverviewScreen(ConsoleScreen):
    """Every profile's state, last run, failures, ServiceNow statuses, shared Zoho budget and tokens; filter
    and jump."""

    TITLE_TEXT = "All profiles"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("Enter", "Work on the highlighted profile and open its Run screen"),
        ("/", "Filter by profile, organization or state (running, queued, idle)"),
        ("a", "Only the profiles that need attention (or all again)"),
        ("r", "Read again now (it refreshes by itself every few seconds)"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("a", "toggle_attention", "Attention only"),
        Binding("slash", "filter", "Filter"),
        Binding("r", "reload", "Reload", show=False),
    ]
    DEFAULT_CSS = """
    OverviewScreen #overview-filter { height: 3; }
    OverviewScreen #overview-table { height: 1fr; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.statuses: list[ProfileStatus] = []
        self.attention_only = False
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ filter by profile, organization or state", id="overview-filter")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="overview-table")

    def on_mount(self) -> None:
        table = self.query_one("#overview-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()  # keys act on the table; / goes to the filter
        self.set_hint("Reading every profile…")
        self._timer = self.set_interval(REFRESH_S, self.action_reload, pause=True)

    def on_screen_resume(self) -> None:  # Textual runs ConsoleScreen's handler too
        self.action_reload()
        if self._timer is not None:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    # ---- loading ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load_statuses()

    @work(exclusive=True, group="overview-load", exit_on_error=False)
    async def load_statuses(self) -> None:
        try:
            statuses = await call_core(profile_statuses, self.context.workspace)
        except Exception as error:
            self.post_message(CoreCallFailed("read the profiles", str(error)))
            return
        self.post_message(StatusesLoaded(statuses))

    @on(StatusesLoaded)
    def statuses_loaded(self, message: StatusesLoaded) -> None:
        self.statuses = message.statuses
        self._draw()

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        self.set_hint(f"[$error]Could not {message.action}:[/] {message.error}")

    # ---- table -----------------------------------------------------------------------------------------
    def _draw(self) -> None:
        wanted = self.query_one("#overview-filter", Input).value.strip()
        table = self.query_one("#overview-table", DataTable)
        limit = self.context.services.settings.zoho.per_minute_limit
        highlighted = self._highlighted_id()
        table.clear()
        for status in self.statuses:
            if matches(status, wanted, attention_only=self.attention_only):
                active = status.profile.id == self.context.profile_id
                table.add_row(*overview_cells(status, active=active, limit=limit), key=str(status.profile.id))
        keys = [str(k.value) for k in table.rows]
        if highlighted in keys:
            table.move_cursor(row=keys.index(highlighted))
        self.set_hint(self._summary(table.row_count))

    def _summary(self, shown: int) -> str:
        if not self.statuses:
            return "No profiles yet: pair a Zoho organization with a ServiceNow instance on Profiles (F6)."
        running = sum(1 for s in self.statuses if s.state == "running")
        queued = sum(s.queued for s in self.statuses)
        attention = sum(1 for s in self.statuses if s.needs_attention)
        only = " · attention only (a: all)" if self.attention_only else ""
        return (
            f"{len(self.statuses)} profiles ({shown} shown{only}) · {running} running · {queued} queued · "
            f"[b]{attention}[/b] need attention · Enter works on the highlighted one"
        )

    def _highlighted_id(self) -> str | None:
        table = self.query_one("#overview-table", DataTable)
        if table.row_count == 0:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    @on(Input.Changed, "#overview-filter")
    def filter_changed(self) -> None:
        self._draw()

    @on(Input.Submitted, "#overview-filter")
    def filter_submitted(self) -> None:
        self.query_one("#overview-table", DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#overview-filter", Input).focus()

    def action_toggle_attention(self) -> None:
        self.attention_only = not self.attention_only
        self._draw()

    @on(DataTable.RowSelected, "#overview-table")
    def action_jump(self) -> None:
        """Work on the highlighted profile and open its Run screen."""
        chosen = self._highlighted_id()
        status = next((s for s in self.statuses if str(s.profile.id) == chosen), None)
        if status is None:
            return
        self.context.choose_profile(status.profile.id)
        self.shown_profile_id = status.profile.id
        announce_token_states(self.context)
        self.notify(f"Working on “{status.profile.name}”.")
        self.action_go("run")


__all__ = ["OverviewScreen", "budget_cell", "matches", "overview_cells", "servicenow_cell"]
