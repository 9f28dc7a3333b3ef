"""Connect: authorise Zoho Books (browser consent or self-client code) and ServiceNow (client credentials).

(Over 400 lines: two connection forms, their selectors of saved connections and their results share one
screen so the operator sees both systems at once; the pre-flight view lives in widgets/preflight_view.py and
every flow itself in core/connect.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from zbsn.core.workspace import ConnectionView, OrganizationChoice, TokenStatus, ZohoConnectResult
from zbsn.core.zoho.regions import DEFAULT_CONSENT_SERVER, REGIONS, region_for_accounts_server
from zbsn.tui.messages import CoreCallFailed, PreflightChecked, ServiceNowTested, ZohoAuthorised
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.services import ConsoleContext, call_core, describe_error
from zbsn.tui.widgets.formatting import (
    duration,
    servicenow_connection_label,
    token_words,
    zoho_connection_label,
)
from zbsn.tui.widgets.preflight_view import render_preflight

DEFAULT_ACCOUNTS_SERVER = DEFAULT_CONSENT_SERVER
SECRET_STORED = "stored encrypted · type to replace"  # noqa: S105 - a placeholder, not a secret
NEW_CONNECTION = -1  # the connection selectors' "add a new one" entry
CUSTOM_DC = "custom"
# Where consent starts for each data centre: every DC but China may start at the US server and is redirected
# to its own (the redirect's accounts-server says which); China starts at its own server.
DC_OPTIONS: list[tuple[str, str]] = [
    (f"{region.name} ({region.location.upper()}) · {region.accounts_server}", region.location)
    for region in REGIONS
] + [("Another accounts server (type it below)", CUSTOM_DC)]


@dataclass
class ConsentUrlReady(Message):
    """The consent URL is open in the browser; the loopback port is waiting for Zoho's redirect."""

    url: str


@dataclass
class OrganizationChosen(Message):
    organization: OrganizationChoice


def token_line(status: TokenStatus | None, connection: ConnectionView | None) -> str:
    """'● connected · refresh in 41m' from the workspace's TokenStatus (or '● not connected')."""
    if connection is None:
        return "[$warning]●[/] not connected"
    state = status.state if status is not None else connection.state
    words, severity = token_words(state)
    refresh = status.refresh_in_s if status is not None else None
    extra = f" · next refresh in {duration(refresh)}" if refresh is not None and severity == "success" else ""
    message = status.message if status is not None else None
    warn = f"\n[$error]{message}[/]" if message and severity != "success" else ""
    return f"[${severity}]●[/] {words}{extra}{warn}"


def zoho_facts(connection: ConnectionView | None) -> str:
    if connection is None:
        return "Authorise once; zbsn refreshes the token by itself from then on."
    org = (
        f"{connection.organization_name} ({connection.organization_id})"
        if connection.organization_id
        else "[$warning]not chosen yet[/]"
    )
    return (
        f"Organization  {org}\nData center   {connection.dc or '—'}\n"
        f"Accounts      {connection.accounts_server or '—'}\nAPI           {connection.api_domain or '—'}"
    )


class ConnectionsRead(Message):
    """Every stored connection with its token state."""

    def __init__(self, connections: list[ConnectionView], statuses: dict[int, TokenStatus]) -> None:
        super().__init__()
        self.connections = connections
        self.statuses = statuses


class ConnectScreen(ConsoleScreen):
    """Zoho and ServiceNow side by side; each says its token state and what to do.

    Each side has a connection selector: several Zoho connections (regional organizations in different data
    centres, each authorised once) can feed one ServiceNow instance; profiles (F6) pair them.
    """

    TITLE_TEXT = "Connect Zoho Books and ServiceNow"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("Tab", "Move between fields and buttons"),
        ("Enter", "Press the focused button"),
        ("ctrl+b", "Zoho: authorise in the browser (auth code)"),
        ("ctrl+k", "Zoho: exchange the pasted self-client code"),
        ("ctrl+s", "ServiceNow: save and test the connection"),
        ("r", "Reload token states"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("ctrl+b", "zoho_browser", "Zoho: browser"),
        Binding("ctrl+k", "zoho_self_client", "Zoho: code"),
        Binding("ctrl+s", "test_servicenow", "Test ServiceNow"),
        Binding("r", "reload", "Reload", show=False),
    ]
    DEFAULT_CSS = """
    ConnectScreen #connect-panels { height: 1fr; }
    ConnectScreen .system { width: 1fr; height: 1fr; border: round $primary-darken-2; padding: 0 1; }
    ConnectScreen .token { height: auto; margin-bottom: 1; }
    ConnectScreen .facts { height: auto; color: $text-muted; margin-bottom: 1; }
    ConnectScreen Input { margin-bottom: 0; }
    ConnectScreen Label { margin-top: 1; color: $text-muted; }
    ConnectScreen RadioSet { width: 1fr; }
    ConnectScreen .buttons { height: auto; margin-top: 1; }
    ConnectScreen .buttons Button { margin-right: 1; }
    ConnectScreen .outcome { height: auto; margin-top: 1; }
    ConnectScreen #zoho-code-row { display: none; height: auto; }
    ConnectScreen.-self-client #zoho-code-row { display: block; }
    ConnectScreen #zoho-org-row { display: none; height: auto; }
    ConnectScreen.-choose-org #zoho-org-row { display: block; }
    ConnectScreen.-narrow #connect-panels { layout: vertical; }
    ConnectScreen.-narrow .system { height: auto; }
    ConnectScreen.-narrow #connect-panels { overflow-y: auto; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.connections: list[ConnectionView] = []
        self.statuses: dict[int, TokenStatus] = {}
        self.zoho: ConnectionView | None = None  # the Zoho connection in the form (None: a new one)
        self.servicenow: ConnectionView | None = None
        self.zoho_selected: int | None = None  # what the operator chose in the selector
        self.servicenow_selected: int | None = None
        self.zoho_result: ZohoConnectResult | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="connect-panels"):
            with VerticalScroll(classes="system", id="zoho-panel"):
                yield Select(
                    [("New Zoho Books connection", NEW_CONNECTION)],
                    value=NEW_CONNECTION,
                    allow_blank=False,
                    id="zoho-connection",
                )
                yield Static("", classes="token", id="zoho-token")
                yield Static("", classes="facts", id="zoho-facts")
                with RadioSet(id="zoho-method"):
                    yield RadioButton(
                        "Sign in with the browser (recommended)", value=True, id="method-browser"
                    )
                    yield RadioButton("Paste a self-client code from Zoho's API console", id="method-self")
                yield Label("Client ID")
                yield Input(placeholder="1000.XXXXXXXX", id="zoho-client-id")
                yield Label("Client secret")
                yield Input(placeholder="client secret", password=True, id="zoho-client-secret")
                yield Label("Data centre of the Zoho account")
                yield Select(DC_OPTIONS, value="us", allow_blank=False, id="zoho-dc")
                yield Label("Accounts server (where consent starts, or the console that made the code)")
                yield Input(DEFAULT_ACCOUNTS_SERVER, id="zoho-accounts")
                with Vertical(id="zoho-code-row"):
                    yield Label("Self-client code (valid a few minutes)")
                    yield Input(placeholder="1000.xxxx.yyyy", password=True, id="zoho-code")
                with Horizontal(classes="buttons"):
                    yield Button("Authorise in browser", variant="primary", id="zoho-authorise")
                with Vertical(id="zoho-org-row"):
                    yield Label("Organization to sync")
                    yield Select([], prompt="Choose an organization", id="zoho-org")
                    yield Button("Use this organization", id="zoho-use-org")
                yield Static("", classes="outcome", id="zoho-outcome")
            with VerticalScroll(classes="system", id="sn-panel"):
                yield Select(
                    [("New ServiceNow connection", NEW_CONNECTION)],
                    value=NEW_CONNECTION,
                    allow_blank=False,
                    id="sn-connection",
                )
                yield Static("", classes="token", id="sn-token")
                yield Static("", classes="facts", id="sn-facts")
                yield Label("Instance URL")
                yield Input(placeholder="https://yourcompany.service-now.com", id="sn-instance")
                yield Label("OAuth client ID")
                yield Input(placeholder="client id from Application Registry", id="sn-client-id")
                yield Label("OAuth client secret")
                yield Input(placeholder="client secret", password=True, id="sn-client-secret")
                with Horizontal(classes="buttons"):
                    yield Button("Save and test", variant="primary", id="sn-connect")
                    yield Button("Test again", id="sn-test")
                yield Static("", classes="outcome", id="sn-outcome")
                yield Static("", classes="outcome", id="sn-preflight")

    def on_mount(self) -> None:
        self.query_one("#zoho-panel").border_title = "Zoho Books"
        self.query_one("#sn-panel").border_title = "ServiceNow"
        self.set_hint("Reading the stored connections…")
        self.action_reload()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.action_reload()

    # ---- loading ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load_connections()

    @work(exclusive=True, group="connect-load", exit_on_error=False)
    async def load_connections(self) -> None:
        workspace = self.context.workspace
        try:
            connections = await call_core(workspace.list_connections)
            statuses = await call_core(workspace.token_statuses)
        except Exception as error:
            self.post_message(CoreCallFailed("read the connections", describe_error(error)))
            return
        self.post_message(ConnectionsRead(connections, {s.connection_id: s for s in statuses}))

    def _profile_connection(self, kind: str) -> int | None:
        """The active profile's connection of `kind` (what the selectors start on)."""
        if self.context.profile_id is None:
            return None
        try:
            profile = self.context.workspace.get_profile(self.context.profile_id)
        except Exception:
            return None
        return profile.zoho_connection_id if kind == "zoho" else profile.servicenow_connection_id

    def _choose(self, kind: str, selected: int | None) -> ConnectionView | None:
        of_kind = [c for c in self.connections if c.kind == kind]
        if selected == NEW_CONNECTION:
            return None
        for wanted in (selected, self._profile_connection(kind)):
            found = next((c for c in of_kind if c.id == wanted), None)
            if found is not None:
                return found
        return of_kind[0] if of_kind else None

    @on(ConnectionsRead)
    def connections_read(self, message: ConnectionsRead) -> None:
        self.connections, self.statuses = message.connections, message.statuses
        self.zoho = self._choose("zoho", self.zoho_selected)
        self.servicenow = self._choose("servicenow", self.servicenow_selected)
        with self.prevent(Select.Changed):
            self.query_one("#zoho-connection", Select).set_options(
                [(zoho_connection_label(c), c.id) for c in self.connections if c.kind == "zoho"]
                + [("New Zoho Books connection", NEW_CONNECTION)]
            )
            self.query_one("#zoho-connection", Select).value = self.zoho.id if self.zoho else NEW_CONNECTION
            self.query_one("#sn-connection", Select).set_options(
                [(servicenow_connection_label(c), c.id) for c in self.connections if c.kind == "servicenow"]
                + [("New ServiceNow connection", NEW_CONNECTION)]
            )
            self.query_one("#sn-connection", Select).value = (
                self.servicenow.id if self.servicenow else NEW_CONNECTION
            )
        self._show_zoho()
        self._show_servicenow()
        zoho_status = self.statuses.get(self.zoho.id) if self.zoho else None
        sn_status = self.statuses.get(self.servicenow.id) if self.servicenow else None
        for status, system in ((zoho_status, "zoho"), (sn_status, "servicenow")):
            if status is not None:
                self.query_one("#status-bar").set_token(system, status.state, status.refresh_in_s)  # type: ignore[attr-defined]
        hint = self._next_step(self.zoho, zoho_status, self.servicenow, sn_status)
        if self.context.sandbox is not None:
            hint += " (Demo: both are the built-in sandboxes on this machine; nothing leaves it.)"
        self.set_hint(hint)

    def _show_zoho(self) -> None:
        zoho = self.zoho
        status = self.statuses.get(zoho.id) if zoho else None
        self.query_one("#zoho-token", Static).update("[b]Token[/b]  " + token_line(status, zoho))
        self.query_one("#zoho-facts", Static).update(zoho_facts(zoho))
        secret = self.query_one("#zoho-client-secret", Input)
        self.query_one("#zoho-client-id", Input).value = (zoho.client_id or "") if zoho else ""
        secret.placeholder = SECRET_STORED if zoho else "client secret"
        accounts = (zoho.accounts_server if zoho else None) or DEFAULT_ACCOUNTS_SERVER
        self._set_accounts(accounts)
        reauth = status is not None and status.state in ("reauthorise", "not connected")
        self.query_one("#zoho-authorise", Button).label = (
            ("Re-authorise in browser" if reauth and zoho is not None else "Authorise in browser")
            if not self.has_class("-self-client")
            else "Exchange code"
        )

    def _set_accounts(self, accounts: str) -> None:
        self.query_one("#zoho-accounts", Input).value = accounts
        region = region_for_accounts_server(accounts)
        with self.prevent(Select.Changed):
            self.query_one("#zoho-dc", Select).value = region.location if region else CUSTOM_DC

    def _show_servicenow(self) -> None:
        sn = self.servicenow
        status = self.statuses.get(sn.id) if sn else None
        self.query_one("#sn-token", Static).update("[b]Token[/b]  " + token_line(status, sn))
        self.query_one("#sn-facts", Static).update(
            f"Instance  {sn.instance_url}\nClient    {sn.client_id or '—'}"
            if sn
            else "Register an OAuth client (client credentials) in ServiceNow's Application Registry."
        )
        self.query_one("#sn-instance", Input).value = (sn.instance_url or "") if sn else ""
        self.query_one("#sn-client-id", Input).value = (sn.client_id or "") if sn else ""
        self.query_one("#sn-client-secret", Input).placeholder = SECRET_STORED if sn else "client secret"

    @on(Select.Changed, "#zoho-connection")
    def zoho_connection_changed(self, event: Select.Changed) -> None:
        if event.value == (self.zoho.id if self.zoho else NEW_CONNECTION):
            return  # the screen itself set it (mount, reload): nothing changed
        self.zoho_selected = event.value if isinstance(event.value, int) else None
        self.zoho = self._choose("zoho", self.zoho_selected)
        self.remove_class("-choose-org")
        self.query_one("#zoho-outcome", Static).update(
            ""
            if self.zoho
            else "A new connection: another organization or data centre, authorised on its own."
        )
        self._show_zoho()

    @on(Select.Changed, "#sn-connection")
    def servicenow_connection_changed(self, event: Select.Changed) -> None:
        if event.value == (self.servicenow.id if self.servicenow else NEW_CONNECTION):
            return  # the screen itself set it (mount, reload): nothing changed
        self.servicenow_selected = event.value if isinstance(event.value, int) else None
        self.servicenow = self._choose("servicenow", self.servicenow_selected)
        self.query_one("#sn-outcome", Static).update("")
        self.query_one("#sn-preflight", Static).update("")
        self._show_servicenow()

    @on(Select.Changed, "#zoho-dc")
    def data_centre_changed(self, event: Select.Changed) -> None:
        region = next((r for r in REGIONS if r.location == event.value), None)
        if region is not None:  # every DC but China starts at the US server and is redirected to its own
            start = region.accounts_server if region.location == "cn" else DEFAULT_CONSENT_SERVER
            if self.has_class("-self-client"):
                start = region.accounts_server  # a self-client code is exchanged where it was made
            self.query_one("#zoho-accounts", Input).value = start

    def _next_step(
        self,
        zoho: ConnectionView | None,
        zoho_status: TokenStatus | None,
        sn: ConnectionView | None,
        sn_status: TokenStatus | None,
    ) -> str:
        if zoho is None or (zoho_status and zoho_status.state in ("reauthorise", "not connected")):
            return "Step 1: authorise Zoho Books on the left (browser sign-in, or paste a self-client code)."
        if not zoho.organization_id:
            return "Step 2: choose the Zoho organization to sync."
        if sn is None or (sn_status and sn_status.state not in ("ok", "connected")):
            return "Step 3: enter the ServiceNow instance and OAuth client on the right, then Save and test."
        if self.context.profile_id is None:
            return "Both systems are connected. Next: create a sync profile (F6) that pairs them."
        return "Both systems are connected. Next: check the Preview (F3) before the first run."

    # ---- Zoho ------------------------------------------------------------------------------------------
    @on(RadioSet.Changed, "#zoho-method")
    def method_changed(self, event: RadioSet.Changed) -> None:
        self_client = event.pressed.id == "method-self"
        self.set_class(self_client, "-self-client")
        self.query_one("#zoho-authorise", Button).label = (
            "Exchange code" if self_client else "Authorise in browser"
        )

    def action_zoho_browser(self) -> None:
        self.query_one("#method-browser", RadioButton).value = True
        self._authorise_zoho(self_client=False)

    def action_zoho_self_client(self) -> None:
        self.query_one("#method-self", RadioButton).value = True
        self._authorise_zoho(self_client=True)

    @on(Button.Pressed, "#zoho-authorise")
    def authorise_pressed(self) -> None:
        self._authorise_zoho(self_client=self.has_class("-self-client"))

    def _authorise_zoho(self, *, self_client: bool) -> None:
        client_id = self.query_one("#zoho-client-id", Input).value.strip()
        secret = self.query_one("#zoho-client-secret", Input).value.strip()
        accounts = self.query_one("#zoho-accounts", Input).value.strip() or DEFAULT_ACCOUNTS_SERVER
        code = self.query_one("#zoho-code", Input).value.strip()
        if not client_id or (not secret and self.zoho is None):
            self.notify("Enter the client ID and secret from Zoho's API console first.", severity="warning")
            return
        if self_client and not code:
            self.notify("Paste the self-client code first.", severity="warning")
            return
        outcome = self.query_one("#zoho-outcome", Static)
        outcome.update(
            "Exchanging the code…" if self_client else "Opening Zoho's consent page in your browser…"
        )
        self.zoho_exchange(client_id, secret, accounts, code if self_client else None)

    @work(exclusive=True, group="zoho-auth", exit_on_error=False)
    async def zoho_exchange(self, client_id: str, secret: str, accounts: str, code: str | None) -> None:
        workspace = self.context.workspace
        connection_id = self.zoho.id if self.zoho is not None else None
        try:
            if code is not None:
                result = await call_core(
                    workspace.connect_zoho_self_client,
                    code,
                    client_id,
                    secret or None,
                    accounts,
                    connection_id=connection_id,
                )
            else:
                result = await call_core(
                    workspace.connect_zoho_auth_code,
                    client_id,
                    secret or None,
                    connection_id=connection_id,
                    accounts_server=accounts,
                    on_consent_url=lambda url: self.post_message(ConsentUrlReady(url)),
                )
        except Exception as error:
            self.post_message(CoreCallFailed("authorise Zoho", describe_error(error)))
            return
        self.post_message(ZohoAuthorised(result))

    @on(ConsentUrlReady)
    def consent_url_ready(self, message: ConsentUrlReady) -> None:
        self.query_one("#zoho-outcome", Static).update(
            "Waiting for you to approve access in the browser (5 minutes).\n"
            f"If no browser opened, open this address yourself:\n[dim]{message.url}[/]"
        )

    @on(ZohoAuthorised)
    def zoho_authorised(self, message: ZohoAuthorised) -> None:
        result = message.result
        self.zoho_result = result
        self.zoho_selected = result.connection_id
        self.query_one("#zoho-client-secret", Input).value = ""
        self.query_one("#zoho-code", Input).value = ""
        lines = [
            "[$success]Authorised.[/]",
            f"Data center {result.dc or '—'} · accounts {result.accounts_server}",
            f"API {result.api_domain or '—'}",
        ]
        if result.chosen is not None:
            lines.append(f"Organization: {result.chosen.name} ({result.chosen.organization_id})")
            self.remove_class("-choose-org")
        else:
            lines.append(f"{len(result.organizations)} organizations: choose the one to sync below.")
            self.query_one("#zoho-org", Select).set_options(
                [(f"{o.name} ({o.organization_id})", o.organization_id) for o in result.organizations]
            )
            self.add_class("-choose-org")
        self.query_one("#zoho-outcome", Static).update("\n".join(lines))
        self.action_reload()

    @on(Button.Pressed, "#zoho-use-org")
    def use_org(self) -> None:
        org_id = self.query_one("#zoho-org", Select).value
        if org_id is Select.NULL or self.zoho_result is None:
            self.notify("Choose an organization first.", severity="warning")
            return
        self.choose_org(self.zoho_result.connection_id, str(org_id), self.zoho_result.organizations)

    @work(exclusive=True, group="zoho-org", exit_on_error=False)
    async def choose_org(
        self, connection_id: int, org_id: str, organizations: list[OrganizationChoice]
    ) -> None:
        try:
            org = await call_core(
                self.context.workspace.choose_zoho_organization, connection_id, org_id, organizations
            )
        except Exception as error:
            self.post_message(CoreCallFailed("choose the organization", describe_error(error)))
            return
        self.post_message(OrganizationChosen(org))

    @on(OrganizationChosen)
    def organization_chosen(self, message: OrganizationChosen) -> None:
        self.remove_class("-choose-org")
        self.query_one("#zoho-outcome", Static).update(f"[$success]Syncing {message.organization.name}.[/]")
        self.action_reload()

    # ---- ServiceNow ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#sn-connect")
    def action_test_servicenow(self) -> None:
        instance = self.query_one("#sn-instance", Input).value.strip()
        client_id = self.query_one("#sn-client-id", Input).value.strip()
        secret = self.query_one("#sn-client-secret", Input).value.strip()
        if not secret and self.servicenow is not None and instance == (self.servicenow.instance_url or ""):
            self.test_existing()
            return
        if not (instance and client_id and secret):
            self.notify("Enter the instance URL, client ID and client secret.", severity="warning")
            return
        self.query_one("#sn-outcome", Static).update("Getting a token and reading legal entities…")
        self.servicenow_connect(instance, client_id, secret)

    @on(Button.Pressed, "#sn-test")
    def test_existing(self) -> None:
        if self.servicenow is None:
            self.notify("Save a ServiceNow connection first.", severity="warning")
            return
        self.query_one("#sn-outcome", Static).update("Testing…")
        self.servicenow_test(self.servicenow.id)

    @work(exclusive=True, group="sn-connect", exit_on_error=False)
    async def servicenow_connect(self, instance: str, client_id: str, secret: str) -> None:
        try:
            connection_id, result = await call_core(
                self.context.workspace.connect_servicenow, instance, client_id, secret
            )
        except Exception as error:
            self.post_message(CoreCallFailed("connect ServiceNow", describe_error(error)))
            return
        self.servicenow_selected = connection_id
        self.post_message(ServiceNowTested(result, connection_id))

    @work(exclusive=True, group="sn-connect", exit_on_error=False)
    async def servicenow_test(self, connection_id: int) -> None:
        try:
            result = await call_core(self.context.workspace.test_servicenow, connection_id)
        except Exception as error:
            self.post_message(CoreCallFailed("test ServiceNow", describe_error(error)))
            return
        self.post_message(ServiceNowTested(result, connection_id))

    @on(ServiceNowTested)
    def servicenow_tested(self, message: ServiceNowTested) -> None:
        result = message.result
        self.query_one("#sn-client-secret", Input).value = ""
        colour = "success" if result.ok else "error"
        self.query_one("#sn-outcome", Static).update(f"[${colour}]{result.message}[/]")
        preflight = self.query_one("#sn-preflight", Static)
        if result.ok and message.connection_id is not None:
            preflight.update("Pre-flight: reading the instance's tables, transform maps and roles…")
            self.servicenow_preflight(message.connection_id)
        else:
            preflight.update("")
        self.action_reload()

    @work(exclusive=True, group="sn-preflight", exit_on_error=False)
    async def servicenow_preflight(self, connection_id: int) -> None:
        """What the instance lacks for staging (tables, columns, transform maps, coalesce, roles)."""
        try:
            check = await call_core(self.context.workspace.preflight, connection_id)
        except Exception as error:
            self.post_message(CoreCallFailed("check ServiceNow (pre-flight)", describe_error(error)))
            return
        self.post_message(PreflightChecked(check))

    @on(PreflightChecked)
    def preflight_checked(self, message: PreflightChecked) -> None:
        self.query_one("#sn-preflight", Static).update(render_preflight(message.check))

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        target = "#sn-outcome" if "ServiceNow" in message.action else "#zoho-outcome"
        self.query_one(target, Static).update(f"[$error]Could not {message.action}:[/] {message.error}")
