"""The sandbox's indexes answer exactly what a full scan of the tables answers (no HTTP needed here)."""

from __future__ import annotations

import random

import pytest

from zbsn.core.clock import OffsetClock
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import ServiceNowSandboxConfig
from zbsn.sandbox.servicenow import encoded_query as eq
from zbsn.sandbox.servicenow.state import Database, Record
from zbsn.sandbox.servicenow.table_api import TableApi, known_path, resolve_path

from .conftest import create_servicenow_sandbox


def _scan_find(db: Database, table: str, **criteria: str) -> Record | None:
    wanted = {k: v.lower() for k, v in criteria.items()}
    return next(
        (r for r in db.records(table) if all(r.get(k, "").lower() == v for k, v in wanted.items())), None
    )


def _scan_query(db: Database, table: str, text: str) -> list[Record]:
    """The evaluator alone over every record: the behaviour the fast paths must keep."""
    parsed = eq.parse(text, lambda path: known_path(table, path))
    rows = [
        r
        for r in db.records(table)
        if eq.matches(parsed, lambda path, rec=r: resolve_path(db, table, rec, path))  # type: ignore[misc]
    ]
    return eq.sort_records(rows, parsed.order_by, lambda rec, col: resolve_path(db, table, rec, col))


def test_find_keeps_first_in_insertion_order_through_updates_and_deletes() -> None:
    db = Database(OffsetClock())
    first = db.insert("cmn_cost_center", {"account_number": "CC-1", "name": "One"})
    second = db.insert("cmn_cost_center", {"account_number": "cc-1", "name": "Two"})
    assert db.find("cmn_cost_center", account_number="CC-1") is first  # index built here
    db.update("cmn_cost_center", first["sys_id"], {"account_number": "CC-9"})
    assert db.find("cmn_cost_center", account_number="Cc-1") is second
    db.update("cmn_cost_center", first["sys_id"], {"account_number": "CC-1"})
    assert db.find("cmn_cost_center", account_number="CC-1") is first  # older record wins again
    assert db.find_all("cmn_cost_center", account_number="cc-1") == [first, second]
    db.delete("cmn_cost_center", first["sys_id"])
    assert db.find("cmn_cost_center", account_number="CC-1") is second
    assert db.find("cmn_cost_center", account_number="CC-9") is None
    third = db.insert("cmn_cost_center", {"account_number": "CC-1", "name": "Three"})
    assert db.find_all("cmn_cost_center", account_number="CC-1") == [second, third]


def test_caller_chosen_sys_id_replaces_in_place_and_reindexes() -> None:
    db = Database(OffsetClock())
    a = db.insert("sn_fin_gl_account", {"number": "4000", "sys_id": "a" * 32})
    b = db.insert("sn_fin_gl_account", {"number": "5000"})
    assert db.find("sn_fin_gl_account", number="4000") is a
    again = db.insert("sn_fin_gl_account", {"number": "5000", "sys_id": "a" * 32})
    assert db.find("sn_fin_gl_account", number="4000") is None
    assert db.find_all("sn_fin_gl_account", number="5000") == [again, b]  # position of the first insert


def test_multi_column_lookup_and_import_set_row_view() -> None:
    sandbox = create_servicenow_sandbox(generate_company(seed=7, bills=10))
    db = sandbox.db
    imports = sandbox.imports
    sets = [
        db.insert("sys_import_set", {"table_name": t, "state": "loading", "mode": "asynchronous"})
        for t in ("sn_spend_intg_imp_invoice_line", "sn_spend_intg_imp_invoice")
    ]
    for n in range(6):
        import_set = sets[n % 2]
        imports.stage_row(import_set["table_name"], {"u_external_invoice_number": f"X{n}"}, import_set)
    view = "sys_import_set_row"
    for import_set in sets:
        wanted = [r for r in db.records(view) if r["sys_import_set"] == import_set["sys_id"]]
        assert db.find_all(view, sys_import_set=import_set["sys_id"]) == wanted
        assert db.find(view, sys_import_set=import_set["sys_id"]) == wanted[0]
        assert db.get(view, wanted[-1]["sys_id"]) == wanted[-1]
    assert db.get(view, "0" * 32) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_table_api_fast_paths_equal_the_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    sandbox = create_servicenow_sandbox(generate_company(seed=7, bills=10))
    db = sandbox.db
    api = TableApi(db, ServiceNowSandboxConfig())
    sets = [db.insert("sys_import_set", {"table_name": "x", "state": "loading"}) for _ in range(4)]
    names = ["Acme", "acme", "ACME", "Beta", "beta", "Gamma"]
    for n in range(40):
        import_set = rng.choice(sets)
        staging = rng.choice(["sn_spend_intg_imp_invoice", "sn_spend_intg_imp_invoice_line"])
        sandbox.imports.stage_row(staging, {"u_external_invoice_number": rng.choice(names)}, import_set)
        db.insert("cmn_cost_center", {"account_number": f"CC-{n % 7}", "name": rng.choice(names)})
    ids = [s["sys_id"] for s in sets]
    queries = {
        "cmn_cost_center": [
            "name=acme",
            "name=Acme^ORDERBYsys_id",
            "nameINAcme,Beta^ORDERBYDESCaccount_number",
            "name=Acme^account_number=CC-3",
            "name=Acme^ORname=Beta",
            "name=Acme^NQname=beta",
            "account_number!=CC-1^name=Gamma",
            "ORDERBYsys_id",
            "location.name=x^name=Acme",
            "name=Nobody",
        ],
        "sys_import_set_row": [
            f"sys_import_set={ids[0]}^ORDERBYsys_import_row",
            f"sys_import_setIN{ids[1]},{ids[2]}^ORDERBYsys_import_row",
            f"sys_import_setIN{ids[3]}^sys_import_state=pending",
            f"sys_class_name=sn_spend_intg_imp_invoice^sys_import_set={ids[0]}",
        ],
    }
    for table, texts in queries.items():
        for text in texts:
            assert api.query(table, text) == _scan_query(db, table, text), text
    one = next(r for r in db.records("cmn_cost_center") if r["name"] != "Gamma")
    assert api.query("cmn_cost_center", f"sys_id={one['sys_id']}") == [one]
    assert api.query("cmn_cost_center", f"sys_id={one['sys_id'].upper()}") == []
    # The page cache forgets its answer once the table is written.
    before = api.query("cmn_cost_center", "name=Gamma")
    db.update("cmn_cost_center", one["sys_id"], {"name": "Gamma"})
    after = api.query("cmn_cost_center", "name=Gamma")
    assert after == _scan_query(db, "cmn_cost_center", "name=Gamma")
    assert one in after
    assert one not in before
    for record in db.records("cmn_cost_center"):
        code = record["account_number"]
        assert db.find("cmn_cost_center", account_number=code) is _scan_find(
            db, "cmn_cost_center", account_number=code
        )
