"""Encoded-query injection through Zoho-sourced values cannot widen a ServiceNow query.

Hostile values (`x^ORactive=false`, `^NQ…`, `javascript:…`, newlines) are planted in the Zoho sandbox's data
AND in the ServiceNow sandbox's masters (so the product matches them and keeps going): vendor names, tax ids
and supplier codes, cost-center tag option names and account numbers, ledger account names, bill numbers,
references and line descriptions. Preview, a full sync, reconcile and a by-hand override then run through the
real product. A recording layer inside the ServiceNow sandbox keeps every `sysparm_query` it received; each
is parsed with the sandbox's own evaluator and must be exactly what the product means: one group (no `^NQ`),
no `^OR`, no dropped (invalid) term, only allowed (table, field, operator) conditions, and no condition whose
value carries a hostile fragment that escaped into its own term. The rows each query selects are then
compared with the rows the intended condition alone selects: never more.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.demo import DemoHandle, _run_in_fresh_loop, start_demo
from zbsn.sandbox.servicenow.encoded_query import EncodedQuery, Term, matches, parse

HOSTILE = (
    "x^ORactive=false",
    "Acme^NQactive=true",
    "javascript:gs.getUser()",
    "two\nlines^ORsys_id!=x",
    "^NQ",
    "trail^",
)

# (table, field, operator) a product query may contain. Anything else is a widened or unexpected query.
ALLOWED: dict[str, set[tuple[str, str]]] = {
    "sys_import_set_row": {("sys_import_set", "="), ("sys_import_set", "IN"), ("sys_import_state", "IN")},
    "sn_shop_invoice": {("external_invoice_number", "STARTSWITH")},
    # the business owners a profile names (operator's settings), looked up by user name, then by email
    "sys_user": {("user_name", "IN"), ("email", "IN")},
}


class Recorder:
    """ASGI layer inside the sandbox's gateway: (path, sysparm_query) of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.queries: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            for key, value in parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True):
                if key == "sysparm_query":
                    self.queries.append((scope["path"], value))
        await self.app(scope, receive, send)


def hostile_company(bills: int = 30) -> Company:
    company = generate_company(7, bills)
    for index, vendor in enumerate(company.vendors[: len(HOSTILE)]):
        vendor.name = HOSTILE[index]
        vendor.tax_id = HOSTILE[(index + 1) % len(HOSTILE)]
    company.vendors[0].supplier_code = "SUP^ORactive=false"
    for index, center in enumerate(company.cost_centers[:3]):
        center.name = HOSTILE[index + 2]
    company.cost_centers[0].account_number = "CC^ORaccount_number!=x"
    for index, account in enumerate(company.accounts[:3]):
        account.name = HOSTILE[index]
    for index, bill in enumerate(company.bills[: len(HOSTILE)]):
        bill.bill_number = HOSTILE[index]
        bill.reference_number = HOSTILE[-1 - index]
        bill.lines[0].description = HOSTILE[(index + 3) % len(HOSTILE)]
    return company


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoHandle, Recorder]]:
    handle = start_demo(
        f"sqlite:///{tmp_path / 'inj.db'}", seed=7, bills=30, rate_window_s=2.0, webhooks=False
    )
    try:
        company = hostile_company()
        handle.zoho.reset(company=copy.deepcopy(company))
        handle.servicenow.company = copy.deepcopy(company)
        handle.servicenow.reset()
        handle.sandboxes.company = company
        recorder = Recorder(handle.servicenow.app.app)
        handle.servicenow.app.app = recorder
        yield handle, recorder
    finally:
        handle.stop()


def _known(_field: str) -> bool:
    return True


def _violations(path: str, query: str) -> list[str]:
    """Why `query` is not exactly an intended query (empty: it is)."""
    table = path.rstrip("/").rsplit("/", 1)[-1]
    parsed = parse(query, _known)
    problems = []
    if parsed.invalid_terms:
        problems.append(f"terms ServiceNow would drop (widening): {parsed.invalid_terms}")
    if len(parsed.groups) > 1:
        problems.append(f"{len(parsed.groups)} ^NQ groups")
    for group in parsed.groups:
        for clause in group:
            if len(clause) > 1:
                problems.append(f"^OR inside a clause: {clause}")
            for term in clause:
                if (term.field, term.operator) not in ALLOWED.get(table, set()):
                    problems.append(f"unexpected condition {term} on {table}")
    if any(column != "sys_id" or descending for column, descending in parsed.order_by[1:]):
        problems.append(f"unexpected ordering {parsed.order_by}")
    return problems


def _selected(demo: DemoHandle, table: str, query: EncodedQuery) -> set[str]:
    rows = demo.servicenow.table(table)
    return {str(row["sys_id"]) for row in rows if matches(query, lambda f, row=row: str(row.get(f, "")))}


def test_hostile_zoho_values_never_widen_a_servicenow_query(demo: tuple[DemoHandle, Recorder]) -> None:
    handle, recorder = demo
    service = handle.workspace.engine_service()
    pid = handle.profile_id
    handle.workspace.forget_clients()

    preview = _run_in_fresh_loop(lambda: service.preview(pid, date_start=None, date_end=None))
    summary = _run_in_fresh_loop(lambda: service.run(pid, mode="full"))
    assert summary.staged > 0, summary
    report = _run_in_fresh_loop(lambda: service.reconcile(pid))
    assert preview is not None
    assert report is not None

    # The hostile values really went through: staged invoices carry them verbatim.
    invoices = handle.servicenow.table("sn_shop_invoice")
    numbers = {str(row.get("supplier_invoice_number")) for row in invoices}
    assert numbers & set(HOSTILE), "no hostile bill number reached ServiceNow: the test planted nothing"

    assert recorder.queries, "the recorder saw no query"
    problems = {f"{path}?{query!r}": _violations(path, query) for path, query in recorder.queries}
    assert {where: why for where, why in problems.items() if why} == {}

    # Results are not widened: every recorded query selects exactly what its single intended condition does.
    for path, query in recorder.queries:
        table = path.rstrip("/").rsplit("/", 1)[-1]
        parsed = parse(query, _known)
        for group in parsed.groups:
            for clause in group:
                intended = EncodedQuery(
                    groups=[[[Term(clause[0].field, clause[0].operator, clause[0].value)]]]
                )
                assert _selected(handle, table, parsed) <= _selected(handle, table, intended)


def test_the_checker_catches_a_widened_query() -> None:
    """Positive control: the query a naive concatenation would send is flagged."""
    naive = "external_invoice_number" + "STARTSWITH" + "ZB-1^ORactive=false" + "^ORDERBYsys_id"
    assert _violations("/api/now/table/sn_shop_invoice", naive) != []
    assert _violations(
        "/api/now/table/sn_shop_invoice", "external_invoice_numberSTARTSWITHZB-1^NQactive=true"
    )
    assert (
        _violations("/api/now/table/sn_fin_supplier", "name=x") != []
    )  # an unexpected lookup by a Zoho value
    assert _violations("/api/now/table/sn_shop_invoice", "external_invoice_numberSTARTSWITHZB-1^^ORx=y") == []
