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
    """Refuse the run when the instance lacks what staging needs; adapt the client to it otherwise.

    FX rate staging lives in another store app (Finance - ERP Integration, sn_fcms_intg) than the invoice
    staging tables: an instance without it is ready for an org whose bills are all in its base currency, so
    what the pre-flight finds wrong there fails only the foreign-currency bills (FX_STAGING_UNAVAILABLE)."""
    tables = staging_tables(run.context.allow_supplier_create)
    report = await run.servicenow.preflight(tables, {t: col.WRITTEN[t] for t in tables})
    fx_problems = report.problems_of(col.FX_RATE_TABLE)
    if fx_problems:
        report = report.without(col.FX_RATE_TABLE)
    if not report.ok:
        raise RunRefused(f"ServiceNow is not ready for staging: {'; '.join(report.problems)}")
    run.fx_staging_problem = "; ".join(fx_problems) or None
    if run.fx_staging_problem:
        run.log("warning", f"ServiceNow cannot stage FX rates, foreign bills will fail: {fx_problems[0]}")
    run.servicenow.apply_preflight(report)
    warnings = report.warnings
    if warnings:
        run.log("info", f"ServiceNow pre-flight: ready, {len(warnings)} warning(s): {'; '.join(warnings)}")
