"""The benchmarks' seeded companies hold what each benchmark needs at the sizes run_all.py asks for.

A change to the company generator once left the webhook benchmark 12 unpaid bills short at its full size,
and only a full `run_all.py` found out; this checks it in seconds (no benchmark runs).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from zbsn.sandbox.company_generator import generate_company

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"zbsn_benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


webhook_requests = _load("webhook_requests")
run_all = _load("run_all")


def _webhook_sizes() -> list[int]:
    (bench,) = [b for b in run_all.BENCHMARKS if b.name == "webhook_requests"]
    return [int(args[args.index("--bills") + 1]) for args in (bench.full_args, bench.quick_args)]


@pytest.mark.parametrize("bills", [*_webhook_sizes(), 200])
def test_the_webhook_benchmark_company_has_enough_unpaid_bills(bills: int) -> None:
    company = generate_company(webhook_requests.SEED, webhook_requests.company_size(bills))
    unpaid = webhook_requests._unpaid(company)
    assert len(unpaid) >= bills
    paid = {a.bill_id for payment in company.payments for a in payment.allocations}
    by_id = {b.bill_id: b for b in company.bills}
    assert all(by_id[i].status in ("open", "overdue") and i not in paid for i in unpaid)
