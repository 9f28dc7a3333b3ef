"""benchmarks/run_all.py: its CLI answers --help, and the report is assembled right (no benchmark runs)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

RUN_ALL = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zbsn_benchmarks_run_all", RUN_ALL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


run_all = _load()


def _passing() -> dict[str, dict[str, Any]]:
    """Sample JSON as each script prints it (extra keys included), every figure within target at full size."""
    return {
        "zoho_budget": {
            "budget_use": 0.97,
            "code44_alone": 0,
            "share_429_competing": 0.004,
            "requests_per_bill_full": 1.005,
            "requests_per_bill_unchanged": 0.0017,
            "unrelated": "kept",
        },
        "webhook_requests": {"bills": 50, "requests_per_bill_webhook": 0.0},
        "attachment_requests": {"bills": 600, "requests_per_bill_beyond_documents": 0.9733},
        "servicenow_stage": {"rows_per_request": 66.7, "rows_per_second": 5000.0},
        "servicenow_status": {"status_requests_per_1000": 2.0, "invoices": 1000},
        "engine": {"bills_per_second": 1500.0, "peak_rss_mb": 200.0, "bills": 100_000, "target": "sandboxes"},
        "tui": {
            "audit_page_ms": 3.2,
            "audit_filter_ms": 40.0,
            "loop_lag_p99_ms": 20.0,
            "audit_rows": 1_000_000,
        },
    }


def test_help_works() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
    assert "--json" in done.stdout


def test_every_benchmark_json_is_kept_under_its_script_name() -> None:
    report = run_all.assemble(_passing())
    assert report["all_targets_met"] is True
    assert report["targets_met_at_measured_sizes"] is True
    for name, result in _passing().items():
        assert report[name] == result
    assert {row["benchmark"] for row in report["targets"]} == set(_passing())
    assert all(row["met"] for row in report["targets"])
    assert "all targets met" in run_all.render_table(report)


@pytest.mark.parametrize(
    ("benchmark", "key", "value"),
    [
        ("zoho_budget", "budget_use", 0.94),
        ("zoho_budget", "code44_alone", 1),
        ("zoho_budget", "share_429_competing", 0.02),
        ("zoho_budget", "requests_per_bill_full", 1.02),
        ("zoho_budget", "requests_per_bill_unchanged", 0.5),
        ("webhook_requests", "requests_per_bill_webhook", 1.0),
        ("attachment_requests", "requests_per_bill_beyond_documents", 1.02),
        ("servicenow_stage", "rows_per_request", 49.9),
        ("servicenow_status", "status_requests_per_1000", 10.5),
        ("engine", "bills_per_second", 999.0),
        ("engine", "peak_rss_mb", 251.0),
        ("tui", "audit_page_ms", 101.0),
        ("tui", "audit_filter_ms", 150.0),
        ("tui", "loop_lag_p99_ms", 51.0),
        ("tui", "loop_lag_p99_ms", None),  # a figure missing from the JSON
        ("engine", "bills_per_second", "fast"),  # not a number
    ],
)
def test_one_missed_figure_fails_all_targets(benchmark: str, key: str, value: Any) -> None:
    results = _passing()
    if value is None:
        del results[benchmark][key]
    else:
        results[benchmark][key] = value
    report = run_all.assemble(results)
    assert report["all_targets_met"] is False
    missed = [row for row in report["targets"] if not row["met"]]
    assert [(row["benchmark"], row["key"]) for row in missed] == [(benchmark, key)]
    assert "MISSED" in run_all.render_table(report)


def test_a_failed_or_skipped_benchmark_fails_its_targets() -> None:
    results: dict[str, Any] = _passing()
    results["engine"] = {"error": "timed out after 3600 s"}
    results["tui"] = None
    report = run_all.assemble(results)
    assert report["all_targets_met"] is False
    assert report["engine"] == {"error": "timed out after 3600 s"}
    assert "engine: timed out" in run_all.render_table(report)


def test_figures_at_reduced_sizes_do_not_prove_size_bound_targets() -> None:
    results = _passing()
    results["engine"]["bills"] = 2000
    results["tui"]["audit_rows"] = 20_000
    report = run_all.assemble(results, quick=True)
    assert report["targets_met_at_measured_sizes"] is True
    assert report["all_targets_met"] is False
    assert report["quick"] is True
    reduced = {row["key"] for row in report["targets"] if not row["at_target_size"]}
    assert reduced == {"bills_per_second", "peak_rss_mb", "audit_page_ms", "audit_filter_ms"}


def test_the_last_json_line_is_taken() -> None:
    assert run_all._last_json_object('warming up\n{"a": 1}\n') == {"a": 1}
    with pytest.raises(ValueError):
        run_all._last_json_object("no json here")
