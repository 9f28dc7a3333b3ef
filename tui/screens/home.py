"""Home: the stored connections (Zoho Books organizations, ServiceNow instances), or what to do first."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from zbsn.core.workspace import ConnectionView, ProfileView
from zbsn.tui.screens.base import NAVIGATION_BINDINGS
from zbsn.tui.screens.services import ConsoleContext

EMPTY_MESSAGE = "No connections yet — press c to connect Zoho Books and ServiceNow, or run zbsn-tui --demo"
NEXT_STEPS = (
    "Next: [b]F3[/b] Preview how every bill would map (nothing is sent) · [b]F4[/b] Run a sync · "
    "[b]F5[/b] Audit log and replay · [b]F2[/b] Connect or re-authorise · [b]F1[/b] Help"
)
DEMO_STORY = (
    "[b]Demo[/b]: both systems are simulated on this machine. F3 shows two cost centers ServiceNow lacks; "
    "F4 → s runs the sync and the bills they block fail; back on F3 press n to create them in the "
    "ServiceNow sandbox; F5 → X replays every failure."
)
COLUMNS = ("Kind", "Name", "State", "DC / Instance", "Organization")
PROFILE_COLUMNS = ("", "Profile", "Zoho Books organization", "ServiceNow instance", "Cost centers")
KIND_LABELS = {"zoho": "Zoho Books", "servicenow": "ServiceNow"}
STATE_STYLES = {
    "connected": "green",
    "new": "yellow",
    "wait": "yellow",
    "reauth": "red",
    "error": "red",
}


@dataclass(frozen=True)
class ConnectionSummary:
    """What the home table shows about one connection (no secrets)."""

    kind: str
    name: str
    state: str
    location: str
    organization: str

    @classmethod
    def of(cls, row: ConnectionView) -> ConnectionSummary:
        """Summarise a stored connection."""
        if row.kind == "zoho":
            location = row.dc.upper() if row.dc else "—"
            organization = row.organization_name or row.organization_id or "—"
        else:
            location = urlsplit(row.instance_url).hostname or row.instance_url if row.instance_url else "—"
            organization = "—"
        return cls(KIND_LABELS.get(row.kind, row.kind), row.name, row.state, location or "—", organization)


class HomeScreen(Screen[None]):
    """Lists stored connections; the starting point of the console."""

    BINDINGS = [
        Binding("c", "go('connect')", "Connect"),
        Binding("p", "go('profiles')", "Profiles"),
        Binding("o", "go('overview')", "All profiles", show=False),
        Binding("r", "refresh", "Refresh"),
        *NAVIGATION_BINDINGS[1:6],
    ]

    class ConnectionsLoaded(Message):
        """The connections and profiles were read from the database."""

        def __init__(self, connections: list[ConnectionSummary], profiles: list[ProfileView]) -> None:
            super().__init__()
            self.connections = connections
            self.profiles = profiles

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        self.demo = context.sandbox is not None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static("Connections", id="home-title")
            yield DataTable(id="connections", cursor_type="row", zebra_stripes=True)
            yield Static("Loading connections…", id="home-empty")
            yield Static("Sync profiles", id="home-profiles-title")
            yield DataTable(id="home-profiles", cursor_type="row", zebra_stripes=True)
            yield Static(NEXT_STEPS, id="home-next")
            if self.demo:
                yield Static(DEMO_STORY, id="home-demo")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#connections", DataTable)
        table.add_columns(*COLUMNS)
        table.display = False
        profiles = self.query_one("#home-profiles", DataTable)
        profiles.add_columns(*PROFILE_COLUMNS)
        profiles.display = False
        self.query_one("#home-profiles-title").display = False
        self.load_connections()

    def on_screen_resume(self) -> None:
        self.load_connections()

    @work(thread=True, exclusive=True, group="home-connections", exit_on_error=False)
    def load_connections(self) -> None:
        """Read the connections off the UI thread and post them."""
        workspace = self.context.workspace
        rows = workspace.list_connections()
        profiles = workspace.list_profiles()
        self.post_message(self.ConnectionsLoaded([ConnectionSummary.of(row) for row in rows], profiles))

    @on(ConnectionsLoaded)
    def show_connections(self, message: ConnectionsLoaded) -> None:
        table = self.query_one("#connections", DataTable)
        empty = self.query_one("#home-empty", Static)
        table.clear()
        for item in message.connections:
            state = Text(item.state, style=STATE_STYLES.get(item.state, ""))
            table.add_row(item.kind, item.name, state, item.location, item.organization)
        table.display = bool(message.connections)
        empty.display = not message.connections
        empty.update(EMPTY_MESSAGE)
        if message.connections:
            table.focus()
        profiles = self.query_one("#home-profiles", DataTable)
        profiles.clear()
        for view in message.profiles:
            active = Text("▶", style="bold green") if view.id == self.context.profile_id else ""
            source = (
                "location" if view.cost_center_source == "location" else f"tag “{view.cost_center_tag_name}”"
            )
            host = urlsplit(view.instance_url).hostname if view.instance_url else None
            org = f"{view.organization_name or '—'} ({view.organization_id or '?'})"
            profiles.add_row(active, view.name, org, host or "—", source)
        shown = bool(message.profiles)
        profiles.display = shown
        self.query_one("#home-profiles-title").display = shown

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "home-connections" and event.state is WorkerState.ERROR:
            self.query_one("#home-empty", Static).update(
                f"Could not read the connections: {event.worker.error}. Run `zbsn doctor` for details."
            )

    def action_refresh(self) -> None:
        """Reload the connections from the database."""
        self.load_connections()

    def action_go(self, destination: str) -> None:
        """Open a console screen (Connect, Preview, Run, Audit, Help)."""
        from zbsn.tui.navigation import show

        show(self.app, destination)
