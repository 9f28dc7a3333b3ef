"""The Profiles screen: create profiles for several Zoho organizations feeding one ServiceNow instance, edit
one, switch between them (Preview, Run and Audit follow), and find the same profile after a restart.

The connections are stored rows (as `zbsn connect` leaves them); the console comes from the real factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select

from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.engine import make_engine
from zbsn.core.domain import ConnectionKind, ConnectionState, CostCenterSource
from zbsn.core.settings import Settings
from zbsn.tui.app import make_app

WIDE = (160, 48)
ORGS = (
    ("us", "70010001", "Northwind Inc."),
    ("eu", "20061234", "Northwind GmbH"),
    ("in", "60050001", "Northwind India"),
)


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def three_orgs_one_instance(url: str) -> tuple[list[int], int]:
    """Three regional Zoho connections (each its own data centre) and one ServiceNow connection."""
    repo = ConnectionRepository(make_engine(url))
    zoho = []
    for dc, org_id, name in ORGS:
        row = repo.create(
            ConnectionKind.ZOHO,
            f"Zoho {dc.upper()}",
            state=ConnectionState.CONNECTED,
            dc=dc,
            organization_id=org_id,
            organization_name=name,
        )
        assert row.id is not None
        zoho.append(row.id)
    now = repo.create(
        ConnectionKind.SERVICENOW,
        "Northwind Now",
        state=ConnectionState.CONNECTED,
        instance_url="https://nw.service-now.com",
    )
    assert now.id is not None
    return zoho, now.id


async def create_profile(pilot: Pilot[Any], name: str, zoho_id: int, *, location: bool = False) -> None:
    screen = pilot.app.screen
    screen.query_one("#profile-new").scroll_visible(animate=False)  # the form scrolls on a short terminal
    await settled(pilot)
    await pilot.click("#profile-new")
    await settled(pilot)
    screen.query_one("#profile-name", Input).value = name
    screen.query_one("#profile-zoho", Select).value = zoho_id
    if location:
        await pilot.click("#cc-location")
    await pilot.press("ctrl+s")
    await settled(pilot)


async def test_three_orgs_one_instance_create_switch_edit_and_remember(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    app = make_app(url, Settings(), screen="profiles", serve=False)
    zoho, _servicenow = three_orgs_one_instance(url)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        await pilot.press("r")
        await settled(pilot)
        for (dc, _org, _name), zoho_id in zip(ORGS, zoho, strict=True):
            await create_profile(pilot, f"Northwind {dc.upper()}", zoho_id, location=dc == "in")
        workspace = app.context.workspace
        profiles = {p.name: p for p in workspace.list_profiles()}
        assert set(profiles) == {"Northwind US", "Northwind EU", "Northwind IN"}
        assert {p.organization_id for p in profiles.values()} == {org for _, org, _ in ORGS}
        assert profiles["Northwind IN"].cost_center_source == CostCenterSource.LOCATION
        assert all(p.post_outbound_as_erp for p in profiles.values())  # Zoho is the ERP unless told otherwise
        assert (
            app.context.profile_id == profiles["Northwind US"].id
        )  # the first one created is the one in use

        table = app.screen.query_one("#profiles-table", DataTable)
        assert table.row_count == 3
        # switch to the EU profile: Audit follows
        table.focus()
        table.move_cursor(row=[str(k.value) for k in table.rows].index(str(profiles["Northwind EU"].id)))
        await pilot.press("enter")
        await settled(pilot)
        assert app.context.profile_id == profiles["Northwind EU"].id
        await pilot.press("f5")
        await settled(pilot)
        assert app.screen.filter.profile_id == profiles["Northwind EU"].id

        # edit the EU profile: the legal entity, the cost center from a tag named "Department", and another
        # ERP posts its invoices (zbsn does not mark them Processed)
        await pilot.press("f6")
        await settled(pilot)
        await pilot.press("e")
        await settled(pilot)
        assert app.screen.query_one("#profile-post-outbound", Checkbox).value is True
        app.screen.query_one("#profile-tag", Input).value = "Department"
        app.screen.query_one("#profile-legal-entity", Input).value = "NW-DE"
        app.screen.query_one("#profile-post-outbound", Checkbox).value = False
        # the invoices' business owner, and another owner for one cost center
        app.screen.query_one("#profile-business-owner", Input).value = "anna@northwind.example"
        app.screen.query_one("#profile-cc-owners", Input).value = "CC-DE-200=jonas@northwind.example"
        await pilot.press("ctrl+s")
        await settled(pilot)
        edited = workspace.get_profile(profiles["Northwind EU"].id)
        assert (edited.cost_center_tag_name, edited.legal_entity) == ("Department", "NW-DE")
        assert edited.post_outbound_as_erp is False
        assert edited.business_owner == "anna@northwind.example"
        assert edited.cost_center_owners == (("CC-DE-200", "jonas@northwind.example"),)
        assert workspace.get_profile(profiles["Northwind US"].id).business_owner is None
        # shown again when the profile is edited; a malformed owner is refused with the reason
        await pilot.press("e")
        await settled(pilot)
        shown = app.screen.query_one("#profile-cc-owners", Input)
        assert shown.value == "CC-DE-200=jonas@northwind.example"
        shown.value = "CC-DE-200"
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert "write it as 'cost center=user'" in str(app.screen.query_one("#profile-outcome").content)
        assert (
            workspace.get_profile(profiles["Northwind EU"].id).cost_center_owners == edited.cost_center_owners
        )
        assert workspace.get_profile(profiles["Northwind US"].id).post_outbound_as_erp is True

        # the filter narrows the table to the matching organization
        table.focus()
        await pilot.press("slash", *"india")
        await settled(pilot)
        assert table.row_count == 1

        # a name that exists already is refused with the reason
        await create_profile(pilot, "Northwind US", zoho[0])
        outcome = str(app.screen.query_one("#profile-outcome").content)
        assert "exists already" in outcome
        assert len(workspace.list_profiles()) == 3

    again = make_app(url, Settings(), serve=False)
    async with again.run_test(size=WIDE) as pilot:
        await settled(pilot)
        assert again.context.profile_id == profiles["Northwind EU"].id  # remembered across restarts
