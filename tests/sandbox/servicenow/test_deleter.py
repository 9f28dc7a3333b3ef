"""The Import Set Deleter: at midnight of the sandbox clock, import sets older than the retention go."""

from __future__ import annotations

import httpx

from zbsn.sandbox.company import Company

from .test_lifecycle import INVOICE, LINE, Fresh, invoice, stage, stage_invoice


def test_import_sets_older_than_seven_days_are_deleted_at_midnight(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, "DEL-1")
    failed = stage(
        api, LINE, {"u_external_invoice_number": "DEL-1", "u_erp_line_number": "9", "u_cost_center": "X"}
    )
    assert failed["status"] == "error"
    staged = sandbox.table(INVOICE)[0]
    assert api.get(f"/api/now/import/{INVOICE}/{staged['sys_id']}").status_code == 200
    sandbox.advance_clock(6 * 86400)  # midnights passed (one catch-up run): nothing is old enough yet
    assert sandbox.jobs.runs["import_set_deleter"] == 1
    assert len(sandbox.table("sys_import_set")) == 2
    assert len(sandbox.table("sys_import_set_row_error")) == 1
    sandbox.advance_clock(2 * 86400)
    assert sandbox.jobs.runs["import_set_deleter"] == 2
    assert sandbox.table("sys_import_set") == []
    assert sandbox.table(INVOICE) == []
    assert sandbox.table(LINE) == []
    assert sandbox.table("sys_import_set_row") == []
    assert sandbox.table("sys_import_set_row_error") == []
    assert api.get(f"/api/now/import/{INVOICE}/{staged['sys_id']}").status_code == 404
    # what remains is the invoice itself (and the S2P import error): follow the target, not the row
    assert invoice(api, sys_id)["external_invoice_number"] == "DEL-1"
    assert len(sandbox.table("sn_spend_intg_import_error")) == 1


def test_the_retention_is_a_setting_and_the_job_runs_on_demand(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    stage_invoice(api, company, "DEL-2")
    sandbox.advance_clock(3600)
    assert (
        httpx.post(f"{sandbox.url}/_admin/lifecycle", json={"import_set_retention_days": 0.01}).status_code
        == 200
    )
    ran = httpx.post(f"{sandbox.url}/_admin/jobs/import_set_deleter", json={}).json()
    assert ran == {"job": "import_set_deleter", "import_sets": 2, "rows": 2, "row_errors": 0}
    assert sandbox.table("sys_import_set") == []


def test_a_retention_of_zero_switches_the_midnight_run_off(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sandbox.set_lifecycle(import_set_retention_days=0)
    stage_invoice(api, company, "DEL-3")
    sandbox.advance_clock(10 * 86400)
    assert sandbox.jobs.runs["import_set_deleter"] == 0
    assert len(sandbox.table(INVOICE)) == 1
