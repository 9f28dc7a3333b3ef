"""Build a RunContext from a profile row and its Zoho connection (asking Zoho only for what is not stored)."""

from __future__ import annotations

import sqlalchemy as sa

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.db.transient import retried
from zbsn.core.engine.bill_lifecycle import parse_bill_statuses
from zbsn.core.engine.business_owner import parse_owner_overrides
from zbsn.core.engine.payment_terms import parse_overrides
from zbsn.core.engine.ports import RunContext, ZohoSource
from zbsn.core.zoho.models import RecordError


class ProfileNotFound(LookupError):
    """No sync profile with this id."""


@retried
def load_profile(db: sa.Engine, profile_id: int) -> tuple[SyncProfile, Connection | None]:
    """The profile and its Zoho connection row."""
    with session_scope(db) as session:
        profile = session.get(SyncProfile, profile_id)
        if profile is None:
            raise ProfileNotFound(f"no sync profile {profile_id}")
        return profile, session.get(Connection, profile.zoho_connection_id)


async def resolve_context(db: sa.Engine, profile_id: int, zoho: ZohoSource | None) -> RunContext:
    """The profile's settings plus the org id, time zone and base currency (from Zoho when not stored)."""
    profile, connection = load_profile(db, profile_id)
    org_id = connection.organization_id if connection else None
    time_zone = connection.time_zone if connection else None
    currency = connection.currency_code if connection else None
    if (not org_id or not time_zone) and zoho is not None:
        organization = await zoho.get_organization()
        if not isinstance(organization, RecordError):
            org_id = org_id or organization.organization_id
            time_zone = time_zone or organization.time_zone
            currency = currency or organization.currency_code
    if not org_id:
        raise ValueError(f"profile {profile_id}: the Zoho connection has no organization id")
    return RunContext(
        profile_id=profile_id,
        organization_id=org_id,
        time_zone=time_zone or "UTC",
        base_currency=currency,
        cost_center_source=profile.cost_center_source,
        cost_center_tag_name=profile.cost_center_tag_name,
        allow_supplier_create=profile.allow_supplier_create,
        erp_source=profile.erp_source,
        legal_entity=profile.legal_entity,
        overlap_seconds=profile.overlap_seconds,
        full_sweep_hours=profile.full_sweep_hours,
        post_outbound_as_erp=profile.post_outbound_as_erp,
        stage_bill_statuses=parse_bill_statuses(profile.stage_bill_statuses),
        payment_terms_overrides=parse_overrides(profile.payment_terms_overrides),
        business_owner=profile.business_owner or None,
        cost_center_owners=parse_owner_overrides(profile.cost_center_owners),
    )
