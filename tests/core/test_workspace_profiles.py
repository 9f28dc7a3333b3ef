"""Workspace profiles and token states: one query per listing (no N+1), and the checks on profile edits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from zbsn.core.connections import ConnectionRepository
from zbsn.core.domain import ConnectionKind, ConnectionState
from zbsn.core.settings import Settings
from zbsn.core.workspace import Workspace, WorkspaceError

from .conftest import XorCipher


@pytest.fixture
def workspace(engine: sa.Engine, cipher: XorCipher) -> Workspace:
    return Workspace(engine, Settings(), cipher)


def _pair(repo: ConnectionRepository, label: str, *, organization: bool = True) -> tuple[int, int]:
    zoho = repo.create(
        ConnectionKind.ZOHO,
        f"{label} books",
        organization_id=f"org-{label}" if organization else None,
        organization_name=f"Org {label}" if organization else None,
        state=ConnectionState.CONNECTED,
    )
    now = repo.create(
        ConnectionKind.SERVICENOW, f"{label} now", instance_url=f"https://{label}.service-now.test"
    )
    assert zoho.id is not None
    assert now.id is not None
    return zoho.id, now.id


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_profiles_list_in_one_query_with_their_org_and_instance(workspace: Workspace) -> None:
    created = []
    for label in ("eu", "us", "in", "au"):
        zoho_id, now_id = _pair(workspace.connections, label)
        created.append(workspace.create_profile(f"AP {label}", zoho_id, now_id, legal_entity=label.upper()))
    with _statements(workspace.db_engine) as seen:
        listed = workspace.list_profiles()
    assert len(seen) == 1, seen
    assert listed == created
    assert [(p.organization_id, p.organization_name, p.instance_url) for p in listed] == [
        (f"org-{label}", f"Org {label}", f"https://{label}.service-now.test")
        for label in ("eu", "us", "in", "au")
    ]
    with _statements(workspace.db_engine) as seen:
        one = workspace.get_profile(created[2].id)
    assert len(seen) == 1, seen
    assert one == created[2]
    assert workspace.resolve_profile("AP us") == created[1]
    assert workspace.resolve_profile(created[3].id) == created[3]
    with pytest.raises(WorkspaceError, match="There is no profile 999"):
        workspace.get_profile(999)
    with pytest.raises(WorkspaceError, match=r"Several profiles exist \(AP eu, AP us, AP in, AP au\)"):
        workspace.resolve_profile(None)


def test_token_statuses_read_the_connections_once(workspace: Workspace) -> None:
    for label in ("eu", "us", "in"):
        zoho_id, now_id = _pair(workspace.connections, label)
        profile = workspace.create_profile(f"AP {label}", zoho_id, now_id)
    with _statements(workspace.db_engine) as seen:
        statuses = workspace.token_statuses()
    assert len(seen) == 1, seen
    assert [s.system for s in statuses] == ["zoho", "servicenow"] * 3
    # Zoho rows without a refresh token are not connected, whatever their state column says
    assert {s.state for s in statuses} == {"not connected"}
    mine = workspace.token_statuses(profile.id)
    assert [s.connection_id for s in mine] == [profile.zoho_connection_id, profile.servicenow_connection_id]


def test_update_profile_checks_what_it_is_pointed_at(workspace: Workspace) -> None:
    zoho_id, now_id = _pair(workspace.connections, "eu")
    other_zoho, other_now = _pair(workspace.connections, "us")
    bare_zoho, _ = _pair(workspace.connections, "ca", organization=False)
    profile = workspace.create_profile("AP eu", zoho_id, now_id)
    workspace.create_profile("AP us", other_zoho, other_now)

    with pytest.raises(WorkspaceError, match="A profile named 'AP us' exists already"):
        workspace.update_profile(profile.id, name=" AP us ")
    with pytest.raises(WorkspaceError, match=f"Connection {now_id} is not a Zoho Books connection"):
        workspace.update_profile(profile.id, zoho_connection_id=now_id)
    with pytest.raises(WorkspaceError, match="Choose the Zoho Books organization"):
        workspace.update_profile(profile.id, zoho_connection_id=bare_zoho)
    with pytest.raises(WorkspaceError, match="Connection 999 is not a ServiceNow connection"):
        workspace.update_profile(profile.id, servicenow_connection_id=999)
    assert workspace.get_profile(profile.id) == profile  # nothing of the refused edits was kept

    moved = workspace.update_profile(
        profile.id, name=" AP europe ", zoho_connection_id=other_zoho, legal_entity="  "
    )
    assert (moved.name, moved.organization_id, moved.instance_url) == (
        "AP europe",
        "org-us",
        "https://eu.service-now.test",
    )
    assert moved.legal_entity is None
    assert workspace.get_profile(profile.id) == moved


def test_create_profile_refuses_what_cannot_be_paired(workspace: Workspace) -> None:
    zoho_id, now_id = _pair(workspace.connections, "eu")
    bare_zoho, _ = _pair(workspace.connections, "ca", organization=False)
    with pytest.raises(WorkspaceError, match="There is no connection 999"):
        workspace.create_profile("AP", 999, now_id)
    with pytest.raises(WorkspaceError, match="pairs one Zoho Books connection with one ServiceNow"):
        workspace.create_profile("AP", now_id, zoho_id)
    with pytest.raises(WorkspaceError, match="Choose the Zoho Books organization"):
        workspace.create_profile("AP", bare_zoho, now_id)
    workspace.create_profile("AP", zoho_id, now_id)
    with pytest.raises(WorkspaceError, match="A profile named 'AP' exists already"):
        workspace.create_profile("AP", zoho_id, now_id)
    assert [p.name for p in workspace.list_profiles()] == ["AP"]


def test_unknown_connection_is_an_operator_error(workspace: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="There is no connection 42"):
        workspace.get_connection(42)
    with pytest.raises(WorkspaceError, match="There is no connection 42"):
        workspace.token_status(42)
