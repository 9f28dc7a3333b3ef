"""Sync profiles: each pairs one Zoho Books organization with one ServiceNow instance, plus mapping settings.

`ProfileRepository` lists, finds, creates and edits them. A profile is shown with the organization and the
instance it pairs, read in the same query (both connections joined), so listing a hundred profiles costs
one query, not two hundred and one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from zbsn.core.clock import Clock
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.domain import ConnectionKind, CostCenterSource
from zbsn.core.engine.bill_lifecycle import (
    APPROVED_BILL_STATUSES,
    format_bill_statuses,
    parse_bill_statuses,
)
from zbsn.core.engine.business_owner import dump_owner_overrides, parse_owner_overrides
from zbsn.core.engine.payment_terms import dump_overrides, parse_overrides
from zbsn.core.workspace_errors import WorkspaceError

_ZOHO = aliased(Connection, name="zoho_connection")
_SERVICENOW = aliased(Connection, name="servicenow_connection")
# a profile with its org id, org name and instance URL
_Joined = sa.Select[SyncProfile, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A sync profile with the names of what it pairs."""

    id: int
    name: str
    zoho_connection_id: int
    servicenow_connection_id: int
    organization_id: str | None
    organization_name: str | None
    instance_url: str | None
    cost_center_source: str
    cost_center_tag_name: str
    allow_supplier_create: bool
    legal_entity: str | None
    enabled: bool
    post_outbound_as_erp: bool = True  # Zoho Books is the ERP: zbsn posts the outbound invoices it staged
    # the Zoho bill statuses staged (others wait for approval in Zoho) and the payment-term overrides
    stage_bill_statuses: tuple[str, ...] = APPROVED_BILL_STATUSES
    payment_terms_overrides: tuple[tuple[str, str], ...] = ()
    # the invoices' business owner (ServiceNow user name or email) and the owners per cost center
    business_owner: str | None = None
    cost_center_owners: tuple[tuple[str, str], ...] = ()


def _view(
    profile: SyncProfile,
    organization_id: str | None,
    organization_name: str | None,
    instance_url: str | None,
) -> ProfileView:
    assert profile.id is not None
    return ProfileView(
        id=profile.id,
        name=profile.name,
        zoho_connection_id=profile.zoho_connection_id,
        servicenow_connection_id=profile.servicenow_connection_id,
        organization_id=organization_id,
        organization_name=organization_name,
        instance_url=instance_url,
        cost_center_source=profile.cost_center_source,
        cost_center_tag_name=profile.cost_center_tag_name,
        allow_supplier_create=profile.allow_supplier_create,
        legal_entity=profile.legal_entity,
        enabled=profile.enabled,
        post_outbound_as_erp=profile.post_outbound_as_erp,
        stage_bill_statuses=parse_bill_statuses(profile.stage_bill_statuses),
        payment_terms_overrides=parse_overrides(profile.payment_terms_overrides),
        business_owner=profile.business_owner,
        cost_center_owners=parse_owner_overrides(profile.cost_center_owners),
    )


def _joined() -> _Joined:
    """Profiles with their Zoho organization and ServiceNow instance, in one statement."""
    return (
        sa.select(
            SyncProfile,
            col(_ZOHO.organization_id),
            col(_ZOHO.organization_name),
            col(_SERVICENOW.instance_url),
        )
        .outerjoin(_ZOHO, col(_ZOHO.id) == col(SyncProfile.zoho_connection_id))
        .outerjoin(_SERVICENOW, col(_SERVICENOW.id) == col(SyncProfile.servicenow_connection_id))
        .order_by(col(SyncProfile.id))
    )


class ProfileRepository:
    """The sync profiles of one database."""

    def __init__(self, db_engine: sa.Engine, connections: ConnectionRepository, clock: Clock) -> None:
        self.db_engine = db_engine
        self.connections = connections
        self.clock = clock

    def all(self) -> list[ProfileView]:
        """Every sync profile with its org and instance (one query)."""
        return self._select(_joined())

    def get(self, profile_id: int) -> ProfileView:
        """One profile (one query); WorkspaceError when there is none with this id."""
        found = self._select(_joined().where(col(SyncProfile.id) == profile_id))
        if not found:
            raise WorkspaceError(f"There is no profile {profile_id}.")
        return found[0]

    def resolve(self, name_or_id: str | int | None) -> ProfileView:
        """A profile by id or name; with None, the only profile (an error when there are several or none)."""
        profiles = self.all()
        if name_or_id is None:
            if len(profiles) == 1:
                return profiles[0]
            if not profiles:
                raise WorkspaceError("No sync profile yet: connect both systems and create one first.")
            names = ", ".join(p.name for p in profiles)
            raise WorkspaceError(f"Several profiles exist ({names}); choose one with --profile.")
        for profile in profiles:
            if str(profile.id) == str(name_or_id) or profile.name == str(name_or_id):
                return profile
        raise WorkspaceError(f"There is no profile '{name_or_id}'.")

    def create(
        self,
        name: str,
        zoho_connection_id: int,
        servicenow_connection_id: int,
        *,
        cost_center_source: CostCenterSource = CostCenterSource.REPORTING_TAG,
        cost_center_tag_name: str = "Cost Center",
        allow_supplier_create: bool = False,
        legal_entity: str | None = None,
        post_outbound_as_erp: bool = True,
        business_owner: str | None = None,
        cost_center_owners: Mapping[str, str] | None = None,
    ) -> ProfileView:
        """Pair a Zoho organization with a ServiceNow instance."""
        zoho = self.connections.get(zoho_connection_id)
        now = self.connections.get(servicenow_connection_id)
        if zoho.kind != ConnectionKind.ZOHO or now.kind != ConnectionKind.SERVICENOW:
            raise WorkspaceError("A profile pairs one Zoho Books connection with one ServiceNow connection.")
        if not zoho.organization_id:
            raise WorkspaceError("Choose the Zoho Books organization of this connection first.")
        with session_scope(self.db_engine) as session:
            if self._name_taken(session, name):
                raise WorkspaceError(f"A profile named '{name}' exists already.")
            profile = SyncProfile(
                name=name,
                zoho_connection_id=zoho_connection_id,
                servicenow_connection_id=servicenow_connection_id,
                cost_center_source=cost_center_source,
                cost_center_tag_name=cost_center_tag_name,
                allow_supplier_create=allow_supplier_create,
                legal_entity=legal_entity,
                post_outbound_as_erp=post_outbound_as_erp,
                business_owner=(business_owner or "").strip() or None,
                cost_center_owners=dump_owner_overrides(cost_center_owners or {}),
                created_at=self.clock.now(),
            )
            session.add(profile)
            session.flush()
            return _view(profile, zoho.organization_id, zoho.organization_name, now.instance_url)

    def update(
        self,
        profile_id: int,
        *,
        name: str | None = None,
        zoho_connection_id: int | None = None,
        servicenow_connection_id: int | None = None,
        cost_center_source: CostCenterSource | None = None,
        cost_center_tag_name: str | None = None,
        allow_supplier_create: bool | None = None,
        legal_entity: str | None = None,
        enabled: bool | None = None,
        post_outbound_as_erp: bool | None = None,
        stage_bill_statuses: Sequence[str] | None = None,
        payment_terms_overrides: Mapping[str, str] | None = None,
        business_owner: str | None = None,
        cost_center_owners: Mapping[str, str] | None = None,
    ) -> ProfileView:
        """Change a profile's settings (only the ones given; an empty legal entity clears it; no statuses
        restore the default approved ones; an empty override mapping clears the overrides).

        Pointing the profile at another Zoho organization or ServiceNow instance keeps its audit log; the
        next run aligns the mappings against the new pair.
        """
        with session_scope(self.db_engine) as session:
            profile = session.get(SyncProfile, profile_id)
            if profile is None:
                raise WorkspaceError(f"There is no profile {profile_id}.")
            if name is not None and name != profile.name:
                name = name.strip()
                if not name:
                    raise WorkspaceError("A profile needs a name.")
                if self._name_taken(session, name):
                    raise WorkspaceError(f"A profile named '{name}' exists already.")
                profile.name = name
            if zoho_connection_id is not None:
                self._check_zoho_connection(session, zoho_connection_id)
                profile.zoho_connection_id = zoho_connection_id
            if servicenow_connection_id is not None:
                self._check_servicenow_connection(session, servicenow_connection_id)
                profile.servicenow_connection_id = servicenow_connection_id
            if cost_center_source is not None:
                profile.cost_center_source = cost_center_source
            if cost_center_tag_name is not None:
                if not cost_center_tag_name.strip():
                    raise WorkspaceError("Name the reporting tag that holds the cost center.")
                profile.cost_center_tag_name = cost_center_tag_name.strip()
            if allow_supplier_create is not None:
                profile.allow_supplier_create = allow_supplier_create
            if legal_entity is not None:
                profile.legal_entity = legal_entity.strip() or None
            if enabled is not None:
                profile.enabled = enabled
            if post_outbound_as_erp is not None:
                profile.post_outbound_as_erp = post_outbound_as_erp
            if stage_bill_statuses is not None:
                try:
                    profile.stage_bill_statuses = format_bill_statuses(stage_bill_statuses)
                except ValueError as exc:
                    raise WorkspaceError(f"Bill statuses: {exc}.") from exc
            if payment_terms_overrides is not None:
                profile.payment_terms_overrides = dump_overrides(payment_terms_overrides)
            if business_owner is not None:
                profile.business_owner = business_owner.strip() or None
            if cost_center_owners is not None:
                profile.cost_center_owners = dump_owner_overrides(cost_center_owners)
            session.add(profile)
            session.flush()
            zoho = self.connections.find(profile.zoho_connection_id, session=session)
            now = self.connections.find(profile.servicenow_connection_id, session=session)
            return _view(
                profile,
                zoho.organization_id if zoho else None,
                zoho.organization_name if zoho else None,
                now.instance_url if now else None,
            )

    def _select(self, statement: _Joined) -> list[ProfileView]:
        with Session(self.db_engine, expire_on_commit=False) as session:
            rows = session.execute(statement).all()
        return [_view(profile, org_id, org_name, instance) for profile, org_id, org_name, instance in rows]

    def _check_zoho_connection(self, session: Session, connection_id: int) -> None:
        row = self.connections.find(connection_id, session=session)
        if row is None or row.kind != ConnectionKind.ZOHO:
            raise WorkspaceError(f"Connection {connection_id} is not a Zoho Books connection.")
        if not row.organization_id:
            raise WorkspaceError("Choose the Zoho Books organization of this connection first.")

    def _check_servicenow_connection(self, session: Session, connection_id: int) -> None:
        row = self.connections.find(connection_id, session=session)
        if row is None or row.kind != ConnectionKind.SERVICENOW:
            raise WorkspaceError(f"Connection {connection_id} is not a ServiceNow connection.")

    @staticmethod
    def _name_taken(session: Session, name: str) -> bool:
        return session.exec(select(SyncProfile.id).where(SyncProfile.name == name)).first() is not None


__all__ = ["ProfileRepository", "ProfileView"]
