"""First in every run that stages: the ServiceNow pre-flight, once per run (sn-ref §14; issue 15, part 5).

It reads the instance's dictionary, transform maps, insertMultiple settings and the application user's roles
in one request (`ServiceNowClient.preflight`). When something staging needs is missing (a table, a column zbsn
cannot do without, an active transform map, coalesce, a role) the run ends `failed` with one line naming it,
before anything is staged: no polling for rows no transform will ever process. Otherwise the client stages
as the instance expects from then on (only the columns it has, keyed by its labels or column names).
"""

from __future__ import annotations

from zbsn.core.engine import columns as col
from zbsn.core.engine.session import RunRefused, RunSession


def staging_tables(allow_supplier_create: bool) -> tuple[str, ...]:
    """The staging tables a run of this profile writes (suppliers and their legal entity mappings only when
    it may create them; FX rates always: a foreign-currency bill needs its rate staged)."""
    tables = (
        col.FX_RATE_TABLE,
        col.INVOICE_TABLE,
        col.INVOICE_LINE_TABLE,
        col.INVOICE_TAX_LINE_TABLE,
        col.PAYMENT_DETAIL_TABLE,
    )
    return (col.SUPPLIER_TABLE, col.SUPPLIER_LEGAL_ENTITY_TABLE, *tables) if allow_supplier_create else tables


async def check_instance(run: RunSession) -> None:
    """Refuse the run when the instance lacks what staging needs; adapt the client to it otherwise."""
    tables = staging_tables(run.context.allow_supplier_create)
    report = await run.servicenow.preflight(tables, {t: col.WRITTEN[t] for t in tables})
    if not report.ok:
        raise RunRefused(f"ServiceNow is not ready for staging: {'; '.join(report.problems)}")
    run.servicenow.apply_preflight(report)
    warnings = report.warnings
    if warnings:
        run.log("info", f"ServiceNow pre-flight: ready, {len(warnings)} warning(s): {'; '.join(warnings)}")
