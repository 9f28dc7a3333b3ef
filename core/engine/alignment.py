"""Refresh all three mapping tables from both systems in one go (for preview, replay and the facade)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from zbsn.core.clock import Clock
from zbsn.core.db.transient import transaction
from zbsn.core.engine.business_owner import configured_users
from zbsn.core.engine.mapping_index import MappingIndex, load_mapping_index
from zbsn.core.engine.masters import (
    ServiceNowMasters,
    align_cost_centers,
    align_gl_accounts,
    align_suppliers,
    fetch_cost_center_dimension,
    fetch_servicenow_masters,
    fetch_vendors,
)
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.zoho.models import ZohoAccount


async def refresh_mappings(
    db: sa.Engine, context: RunContext, zoho: ZohoSource, servicenow: ServiceNowTarget, clock: Clock
) -> tuple[ServiceNowMasters, MappingIndex]:
    """Read masters on both sides, re-match the auto mappings (manual ones stay), return the lookups.

    Reads only: nothing is written to ServiceNow (vendors to create are left to a run).
    """
    owners = configured_users(context.business_owner, context.cost_center_owners)
    masters = await fetch_servicenow_masters(servicenow, owners, context.legal_entity)
    dimension = await fetch_cost_center_dimension(zoho, context)
    accounts = [a for a in await zoho.list_accounts() if isinstance(a, ZohoAccount)]
    vendors, _errors = await fetch_vendors(zoho)
    now = clock.now()

    def align(session: Session) -> None:
        align_cost_centers(session, context.profile_id, dimension, masters.cost_centers, now)
        align_gl_accounts(session, context.profile_id, accounts, masters.gl_accounts, now)
        align_suppliers(session, context.profile_id, vendors, masters.suppliers, now, allow_create=False)

    transaction(db, align)  # each run again after a transient database error (db.transient)
    return masters, transaction(db, lambda session: load_mapping_index(session, context, masters))
