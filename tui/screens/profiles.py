"""Profiles: pair a Zoho Books organization with a ServiceNow instance, edit the pair, switch between pairs.

A firm with three regional Zoho orgs feeding one ServiceNow instance has three profiles; the one marked ▶ is
the one Preview, Run and Audit work on. Everything `zbsn profile create` asks is here: the organization
(a Zoho connection with its organization chosen), the instance, where the cost center lives (a reporting tag
or the location), the legal entity, the invoices' business owner (with owners per cost center), whether
unknown vendors may be staged as new suppliers, and whether zbsn posts the approved invoices back to
ServiceNow as the ERP (Zoho Books).

(Over 400 lines: the list and the form of one task, creating and switching profiles, on one screen; what the
form's text means is parsed in core.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, Label, RadioButton, RadioSet, Select, Static

from zbsn.core.domain import CostCenterSource
from zbsn.core.engine.business_owner import format_owner_pairs, parse_owner_pairs
from zbsn.core.profile_status import ProfileStatus, profile_statuses
from zbsn.core.workspace import ConnectionView, ProfileView
from zbsn.tui.messages import CoreCallFailed
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.services import ConsoleContext, announce_token_states, call_core, describe_error
from zbsn.tui.widgets.formatting import servicenow_connection_label, zoho_connection_label

NEW_PROFILE = "new"


@dataclass
class ProfilesLoaded(Message):
    """Profiles (with their last run, failures and tokens) and the connections a profile can pair."""

    statuses: list[ProfileStatus]
    connections: list[ConnectionView]


@dataclass
class ProfileSaved(Message):
    """A profile was created or changed."""

    profile: ProfileView
    created: bool


@dataclass(frozen=True, slots=True)
class ProfileForm:
    """What the operator typed (validated by the workspace, which says what is wrong)."""

    name: str
    zoho_connection_id: int | None
    servicenow_connection_id: int | None
    by_location: bool
    tag_name: str
    legal_entity: str
    allow_supplier_create: bool
    post_outbound_as_erp: bool = True
    business_owner: str = ""  # a ServiceNow user name or email ("" clears it)
    cost_center_owners: str = ""  # "CC=user, CC=user" as typed


# A run's end state in the few characters the profiles table has for it.
LAST_RUN_WORDS = {
    "succeeded": ("ok", "green"),
    "completed_with_failures": ("failures", "yellow"),
    "failed": ("failed", "red"),
    "reauth": ("re-auth", "red"),
    "cancelled": ("cancelled", "yellow"),
    "running": ("running", "cyan"),
    "interrupted": ("interrupted", "red"),
}


def profile_cells(status: ProfileStatus, *, active: bool) -> list[str | Text]:
    """One row of the profiles table."""
    view = status.profile
    source = (
        "location"
        if view.cost_center_source == CostCenterSource.LOCATION
        else f"tag {view.cost_center_tag_name}"
    )
    run = status.last_run
    if run is None:
        last: str | Text = Text("never", style="dim")
    else:
        word, style = LAST_RUN_WORDS.get(run.status, (run.status.replace("_", " "), "yellow"))
        last = Text(f"{word} {run.started_at:%m-%d %H:%M}", style=style)
    failed = Text(f"{status.failed_records:,}", style="bold red" if status.failed_records else "dim")
    bad = [system for system, state in status.tokens.items() if state != "ok"]
    tokens = Text("ok", style="green") if not bad else Text(" ".join(f"{s}!" for s in bad), style="bold red")
    host = urlsplit(view.instance_url).hostname if view.instance_url else None
    return [
        Text("▶", style="bold green") if active else "",
        view.name,
        view.organization_name or view.organization_id or "—",
        host or "—",
        source,
        last,
        failed,
        tokens,
    ]


class ProfilesScreen(ConsoleScreen):
    """The sync profiles, and a form to create or edit one."""

    TITLE_TEXT = "Sync profiles"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("Enter / u", "Work on the highlighted profile (Preview, Run, Audit)"),
        ("/", "Filter the profiles by name or organization"),
        ("e", "Edit the highlighted profile"),
        ("n", "New profile"),
        ("ctrl+s", "Save the form"),
        ("r", "Reload"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("u", "use_profile", "Use"),
        Binding("e", "edit_profile", "Edit"),
        Binding("n", "new_profile", "New"),
        Binding("ctrl+s", "save", "Save"),
        Binding("r", "reload", "Reload", show=False),
        Binding("slash", "filter", "Filter", show=False),
    ]
    DEFAULT_CSS = """
    ProfilesScreen #profiles-split { height: 1fr; }
    ProfilesScreen #profiles-left { width: 1fr; height: 1fr; }
    ProfilesScreen #profiles-filter { height: 3; }
    ProfilesScreen #profiles-table { height: 1fr; }
    ProfilesScreen #profile-form { width: 52; border: round $primary-darken-2; padding: 0 1; }
    ProfilesScreen #profile-form Label { margin-top: 1; color: $text-muted; }
    ProfilesScreen #profile-form .buttons { height: auto; margin-top: 1; }
    ProfilesScreen #profile-owners { height: auto; }
    ProfilesScreen #profile-owners Input { width: 1fr; }
    ProfilesScreen #profile-form .buttons Button { margin-right: 1; }
    ProfilesScreen #profile-outcome { height: auto; margin-top: 1; }
    ProfilesScreen.-narrow #profiles-split { layout: vertical; }
    ProfilesScreen.-narrow #profiles-left { width: 1fr; height: 12; }
    ProfilesScreen.-narrow #profile-form { width: 1fr; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.profiles: list[ProfileView] = []
        self.statuses: list[ProfileStatus] = []
        self.connections: list[ConnectionView] = []
        self.editing: int | None = None  # the profile in the form; None: a new one

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="profiles-split"):
            with Vertical(id="profiles-left"):
                yield Input(placeholder="/ filter by profile or organization", id="profiles-filter")
                yield DataTable(cursor_type="row", zebra_stripes=True, id="profiles-table")
            with VerticalScroll(id="profile-form"):
                yield Label("Profile name")
                yield Input(placeholder="e.g. Northwind UK", id="profile-name")
                yield Label("Zoho Books organization (connect more on F2)")
                yield Select([], prompt="Choose a Zoho connection", id="profile-zoho")
                yield Label("ServiceNow instance")
                yield Select([], prompt="Choose a ServiceNow connection", id="profile-servicenow")
                yield Label("Where Zoho keeps the cost center")
                with RadioSet(id="profile-cc-source"):
                    yield RadioButton("A reporting tag on the line", value=True, id="cc-tag")
                    yield RadioButton("The location (branch) of the bill", id="cc-location")
                yield Label("Reporting tag name")
                yield Input("Cost Center", id="profile-tag")
                yield Label("Legal entity (ERP company code, optional)")
                yield Input(placeholder="e.g. NW-UK", id="profile-legal-entity")
                yield Label("Business owner; per cost center: CC=user, …")
                with Horizontal(id="profile-owners"):
                    yield Input(placeholder="user or email", id="profile-business-owner")
                    yield Input(placeholder="CC-100=user, …", id="profile-cc-owners")
                yield Checkbox("Stage unknown vendors as new suppliers", id="profile-supplier-create")
                yield Label("ERP posting (off if another ERP posts)")
                yield Checkbox(
                    "Zoho is the ERP: post approved invoices", value=True, id="profile-post-outbound"
                )
                with Horizontal(classes="buttons"):
                    yield Button("Create profile", variant="primary", id="profile-save")
                    yield Button("New", id="profile-new")
                yield Static("", id="profile-outcome")

    def on_mount(self) -> None:
        table = self.query_one("#profiles-table", DataTable)
        for key, label in (
            ("active", ""),
            ("name", "Profile"),
            ("org", "Zoho organization"),
            ("instance", "ServiceNow"),
            ("cc", "Cost centers"),
            ("last", "Last run"),
            ("failed", "Failed"),
            ("tokens", "Tokens"),
        ):
            table.add_column(label, key=key)
        self.query_one("#profile-form").border_title = "New profile"
        self.action_reload()

    def profile_changed(self) -> None:
        self.action_reload()

    # ---- loading ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load_profiles()

    @work(exclusive=True, group="profiles-load", exit_on_error=False)
    async def load_profiles(self) -> None:
        workspace = self.context.workspace
        try:
            statuses = await call_core(profile_statuses, workspace)
            connections = await call_core(workspace.list_connections)
        except Exception as error:
            self.post_message(CoreCallFailed("read the profiles", describe_error(error)))
            return
        self.post_message(ProfilesLoaded(statuses, connections))

    @on(ProfilesLoaded)
    def profiles_loaded(self, message: ProfilesLoaded) -> None:
        self.statuses, self.connections = message.statuses, message.connections
        self.profiles = [status.profile for status in self.statuses]
        self._draw_table()
        zoho = [(zoho_connection_label(c), c.id) for c in self.connections if c.kind == "zoho"]
        self._fill_selectors(zoho)

    def _fill_selectors(self, zoho: list[tuple[str, int]]) -> None:
        servicenow = [
            (servicenow_connection_label(c), c.id) for c in self.connections if c.kind == "servicenow"
        ]
        self.query_one("#profile-zoho", Select).set_options(zoho)
        self.query_one("#profile-servicenow", Select).set_options(servicenow)
        if self.editing is not None and any(p.id == self.editing for p in self.profiles):
            self._fill(next(p for p in self.profiles if p.id == self.editing))
        else:
            self._fill(None)
        self.set_hint(self._next_step(zoho, servicenow))

    def _draw_table(self) -> None:
        """The profiles matching the filter: what each pairs, its last run, failures and tokens."""
        wanted = self.query_one("#profiles-filter", Input).value.strip().casefold()
        table = self.query_one("#profiles-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for status in self.statuses:
            view = status.profile
            haystack = f"{view.name} {view.organization_name or ''} {view.organization_id or ''}".casefold()
            if wanted and wanted not in haystack:
                continue
            table.add_row(*profile_cells(status, active=view.id == self.context.profile_id), key=str(view.id))
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    @on(Input.Changed, "#profiles-filter")
    def filter_changed(self) -> None:
        self._draw_table()

    def action_filter(self) -> None:
        self.query_one("#profiles-filter", Input).focus()

    def _next_step(self, zoho: list[tuple[str, int]], servicenow: list[tuple[str, int]]) -> str:
        if not zoho or not servicenow:
            return "Connect Zoho Books and ServiceNow first (F2); a profile pairs one of each."
        if not self.profiles:
            return (
                "Create the first profile on the right: name it, choose the organization and instance, save."
            )
        active = next((p for p in self.profiles if p.id == self.context.profile_id), None)
        if active is None:
            return "Highlight a profile and press Enter to work on it."
        return f"Working on “{active.name}”. Enter on another row switches; e edits; n starts a new one."

    # ---- form ------------------------------------------------------------------------------------------
    def _fill(self, profile: ProfileView | None) -> None:
        """Show `profile` in the form (None: an empty form for a new profile)."""
        self.editing = profile.id if profile is not None else None
        form = self.query_one("#profile-form")
        form.border_title = f"Edit “{profile.name}”" if profile else "New profile"
        self.query_one("#profile-save", Button).label = "Save changes" if profile else "Create profile"
        self.query_one("#profile-name", Input).value = profile.name if profile else ""
        zoho = self.query_one("#profile-zoho", Select)
        servicenow = self.query_one("#profile-servicenow", Select)
        zoho_ids = [c.id for c in self.connections if c.kind == "zoho"]
        servicenow_ids = [c.id for c in self.connections if c.kind == "servicenow"]
        wanted_zoho = profile.zoho_connection_id if profile else (zoho_ids[-1] if zoho_ids else None)
        wanted_sn = (
            profile.servicenow_connection_id if profile else (servicenow_ids[0] if servicenow_ids else None)
        )
        for select, wanted, known in ((zoho, wanted_zoho, zoho_ids), (servicenow, wanted_sn, servicenow_ids)):
            if wanted in known:
                select.value = wanted
            else:
                select.clear()
        by_location = profile is not None and profile.cost_center_source == CostCenterSource.LOCATION
        self.query_one("#cc-location" if by_location else "#cc-tag", RadioButton).value = True
        self.query_one("#profile-tag", Input).value = (
            profile.cost_center_tag_name if profile else "Cost Center"
        )
        self.query_one("#profile-legal-entity", Input).value = (profile.legal_entity or "") if profile else ""
        self.query_one("#profile-business-owner", Input).value = (
            (profile.business_owner or "") if profile else ""
        )
        self.query_one("#profile-cc-owners", Input).value = (
            format_owner_pairs(profile.cost_center_owners) if profile else ""
        )
        self.query_one("#profile-supplier-create", Checkbox).value = (
            profile.allow_supplier_create if profile else False
        )
        self.query_one("#profile-post-outbound", Checkbox).value = (
            profile.post_outbound_as_erp if profile else True
        )

    def _read_form(self) -> ProfileForm:
        zoho = self.query_one("#profile-zoho", Select).value
        servicenow = self.query_one("#profile-servicenow", Select).value
        return ProfileForm(
            name=self.query_one("#profile-name", Input).value.strip(),
            zoho_connection_id=zoho if isinstance(zoho, int) else None,
            servicenow_connection_id=servicenow if isinstance(servicenow, int) else None,
            by_location=self.query_one("#cc-location", RadioButton).value,
            tag_name=self.query_one("#profile-tag", Input).value.strip() or "Cost Center",
            legal_entity=self.query_one("#profile-legal-entity", Input).value.strip(),
            allow_supplier_create=self.query_one("#profile-supplier-create", Checkbox).value,
            post_outbound_as_erp=self.query_one("#profile-post-outbound", Checkbox).value,
            business_owner=self.query_one("#profile-business-owner", Input).value.strip(),
            cost_center_owners=self.query_one("#profile-cc-owners", Input).value.strip(),
        )

    def _highlighted(self) -> ProfileView | None:
        table = self.query_one("#profiles-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((p for p in self.profiles if str(p.id) == key), None)

    def action_new_profile(self) -> None:
        self._fill(None)
        self.query_one("#profile-name", Input).focus()

    @on(Button.Pressed, "#profile-new")
    def new_pressed(self) -> None:
        self.action_new_profile()

    def action_edit_profile(self) -> None:
        profile = self._highlighted()
        if profile is None:
            self.notify("No profile yet: fill the form and create one.", severity="warning")
            return
        self._fill(profile)
        self.query_one("#profile-name", Input).focus()

    @on(DataTable.RowSelected, "#profiles-table")
    def action_use_profile(self) -> None:
        profile = self._highlighted()
        if profile is None:
            return
        self.context.choose_profile(profile.id)
        self.shown_profile_id = profile.id
        announce_token_states(self.context)
        self.notify(f"Working on “{profile.name}”: Preview, Run and Audit now show this profile.")
        self.action_reload()

    @on(Button.Pressed, "#profile-save")
    def action_save(self) -> None:
        form = self._read_form()
        if not form.name:
            self.notify("Name the profile first.", severity="warning")
            return
        if form.zoho_connection_id is None or form.servicenow_connection_id is None:
            self.notify("Choose the Zoho Books organization and the ServiceNow instance.", severity="warning")
            return
        self.query_one("#profile-outcome", Static).update("Saving…")
        self.save_profile(form, self.editing)

    @work(exclusive=True, group="profiles-save", exit_on_error=False)
    async def save_profile(self, form: ProfileForm, profile_id: int | None) -> None:
        workspace = self.context.workspace
        source = CostCenterSource.LOCATION if form.by_location else CostCenterSource.REPORTING_TAG
        assert form.zoho_connection_id is not None
        assert form.servicenow_connection_id is not None
        try:
            owners = parse_owner_pairs(form.cost_center_owners)
            if profile_id is None:
                view = await call_core(
                    workspace.create_profile,
                    form.name,
                    form.zoho_connection_id,
                    form.servicenow_connection_id,
                    cost_center_source=source,
                    cost_center_tag_name=form.tag_name,
                    allow_supplier_create=form.allow_supplier_create,
                    legal_entity=form.legal_entity or None,
                    post_outbound_as_erp=form.post_outbound_as_erp,
                    business_owner=form.business_owner or None,
                    cost_center_owners=owners,
                )
            else:
                view = await call_core(
                    workspace.update_profile,
                    profile_id,
                    name=form.name,
                    zoho_connection_id=form.zoho_connection_id,
                    servicenow_connection_id=form.servicenow_connection_id,
                    cost_center_source=source,
                    cost_center_tag_name=form.tag_name,
                    allow_supplier_create=form.allow_supplier_create,
                    legal_entity=form.legal_entity,
                    post_outbound_as_erp=form.post_outbound_as_erp,
                    business_owner=form.business_owner,
                    cost_center_owners=owners,
                )
        except Exception as error:
            self.post_message(CoreCallFailed("save the profile", describe_error(error)))
            return
        self.post_message(ProfileSaved(view, created=profile_id is None))

    @on(ProfileSaved)
    def profile_saved(self, message: ProfileSaved) -> None:
        view = message.profile
        verb = "Created" if message.created else "Saved"
        first = self.context.profile_id is None
        if message.created and first:
            self.context.choose_profile(view.id)
            self.shown_profile_id = view.id
            announce_token_states(self.context)
        self.editing = view.id
        tail = " and working on it. Next: Preview (F3)." if first and message.created else "."
        self.query_one("#profile-outcome", Static).update(f"[$success]{verb} “{view.name}”{tail}[/]")
        self.action_reload()

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        self.query_one("#profile-outcome", Static).update(
            f"[$error]Could not {message.action}:[/] {message.error}"
        )


__all__ = ["ProfilesScreen"]
