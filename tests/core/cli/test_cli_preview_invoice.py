"""`zbsn preview --json` explains each bill as the invoice it would become (issue 16): Zoho's own amounts
(other charges, discount, sub-total, tax, total), payment terms (Zoho's label and the ServiceNow term), the
remit-to address, the business owner, and each line's cost center, GL account and tax components."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import zbsn.core.cli.cmd_preview  # noqa: F401 - registers the command on the app
from zbsn.core.cli.app import app
from zbsn.sandbox.demo import DemoHandle, start_demo

runner = CliRunner()


@pytest.fixture
def preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DemoHandle, dict[str, Any]]]:
    monkeypatch.setenv("ZBSN_ZOHO__PER_MINUTE_LIMIT", "1000")
    url = f"sqlite:///{tmp_path / 'cli-preview.db'}"
    handle = start_demo(url, seed=7, bills=200, webhooks=False)
    handle.zoho.set_limits(enabled=False)
    try:
        done = runner.invoke(app, ["--db", url, "preview", "--from", "2000-01-01", "--json"])
        assert done.exit_code == 0, done.output
        bills = {b["bill_id"]: b for b in json.loads(done.stdout)["bills"]}
        yield handle, bills
    finally:
        handle.stop()


def test_each_read_bill_carries_its_invoice(preview: tuple[DemoHandle, dict[str, Any]]) -> None:
    handle, bills = preview
    read = {bill_id: b for bill_id, b in bills.items() if b["invoice"] is not None}
    assert len(read) > 100
    seeded = {b.bill_id: b for b in handle.company.bills}
    for bill_id, bill in read.items():
        invoice, zoho = bill["invoice"], seeded[bill_id]
        assert Decimal(invoice["other_charges"]) == zoho.adjustment
        assert Decimal(invoice["discount"]) == zoho.discount
        total = Decimal(invoice["subtotal"]) + Decimal(invoice["tax"]) + zoho.adjustment - zoho.discount
        assert Decimal(invoice["total"]) == total
        assert invoice["payment_terms_label"] == (zoho.payment_terms_label or None)
        assert invoice["lines"], bill_id
    adjusted = [b["invoice"] for b in read.values() if Decimal(b["invoice"]["other_charges"])]
    assert adjusted
    assert all(i["other_charges_label"] for i in adjusted)
    assert any(Decimal(b["invoice"]["discount"]) for b in read.values())


def test_lines_name_their_coding_and_a_tax_group_its_components(
    preview: tuple[DemoHandle, dict[str, Any]],
) -> None:
    handle, bills = preview
    ready = [b["invoice"] for b in bills.values() if b["outcome"] == "ready"]
    assert ready
    for invoice in ready:
        for line in invoice["lines"]:
            assert line["cost_center"]
            assert line["gl_account"]
            assert sum(Decimal(t["amount"]) for t in line["taxes"]) == Decimal(line["tax"])
    grouped = [line for i in ready for line in i["lines"] if len(line["taxes"]) >= 2]
    assert grouped, "the seeded company's sales-tax group (state + city) shows as two tax lines"
    owners = {i["business_owner"] for i in ready}
    assert handle.company.business_owner in owners
    with_address = [i for i in ready if i["remit_to"]]
    assert with_address
    assert all(len(i["remit_to"].get("u_remit_to_country", "")) == 2 for i in with_address)
