"""The masters stage: cost centers, then GL accounts, aligned with both systems before any invoice."""

from __future__ import annotations

from zbsn.core.db.transient import transaction
from zbsn.core.engine.business_owner import configured_users
from zbsn.core.engine.masters import (
    ServiceNowMasters,
    align_cost_centers,
    align_gl_accounts,
    fetch_cost_center_dimension,
    fetch_servicenow_masters,
)
from zbsn.core.engine.session import RunSession
from zbsn.core.zoho.models import ZohoAccount


async def align_masters(run: RunSession) -> ServiceNowMasters:
    """Refresh the cost-center and GL-account mapping tables; return ServiceNow's masters for the run."""
    run.stage_started("cost_centers")
    owners = configured_users(run.context.business_owner, run.context.cost_center_owners)
    masters = await fetch_servicenow_masters(run.servicenow, owners, run.context.legal_entity)
    dimension = await fetch_cost_center_dimension(run.zoho, run.context)
    counts = transaction(  # run again after a transient database error (db.transient)
        run.db,
        lambda session: align_cost_centers(
            session, run.profile_id, dimension, masters.cost_centers, run.clock.now()
        ),
    )
    run.stage_finished("cost_centers", counts.matched + counts.manual, counts.missing, 0)
    run.checkpoint()
    run.stage_started("gl_accounts")
    accounts = [a for a in await run.zoho.list_accounts() if isinstance(a, ZohoAccount)]
    counts = transaction(
        run.db,
        lambda session: align_gl_accounts(
            session, run.profile_id, accounts, masters.gl_accounts, run.clock.now()
        ),
    )
    run.stage_finished("gl_accounts", counts.matched + counts.manual, counts.missing, 0)
    run.checkpoint()
    return masters
