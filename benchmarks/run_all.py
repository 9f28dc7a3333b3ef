"""Run every benchmark and print each figure beside its target.

    python benchmarks/run_all.py [--quick] [--json] [--only zoho_budget,engine] [--timeout-s 3600]

Each script in `benchmarks/` runs as a subprocess with `--json` (one after another, so they do not compete
for the CPU); its JSON object is collected under the script's name. The table shows, with targets from the
issues: Zoho budget use, code-44 429s alone and the 429 share beside a competing client; Zoho requests per
bill for a full pull, an incremental run with nothing changed, and bills arriving by webhook; ServiceNow rows
per request; ServiceNow requests per 1,000 invoices for one status refresh after staging; engine bills/s and
peak RSS at 100k bills; audit-log page and filter time at 1M rows; the UI event-loop lag during a sync.

`--quick` runs reduced sizes as a smoke check: figures that a target ties to a size (100k bills, 1M audit
rows) are then not proven, so `all_targets_met` is false for a quick run even when every figure is within
its target (`targets_met_at_measured_sizes` says whether they were).

`--json` prints one JSON object: every benchmark's JSON under its script name (`zoho_budget`,
`servicenow_stage`, `servicenow_status`, `engine`, `tui`, `webhook_requests`, `attachment_requests`; a
failed script gives `{"error": ...}`), plus `targets` (the table's rows), `quick`,
`targets_met_at_measured_sizes` and `all_targets_met`.
"""

from __future__ import annotations

import argparse
import json
import operator
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    script: str
    full_args: tuple[str, ...]
    quick_args: tuple[str, ...]

    @property
    def name(self) -> str:
        return Path(self.script).stem


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("zoho_budget.py", (), ("--window", "1", "--bills", "200")),
    Benchmark("webhook_requests.py", ("--bills", "50"), ("--bills", "5")),
    Benchmark("attachment_requests.py", ("--bills", "600"), ("--bills", "100")),
    Benchmark("servicenow_stage.py", ("--rows", "2000"), ("--rows", "400")),
    Benchmark("servicenow_status.py", ("--invoices", "1000"), ("--invoices", "200")),
    Benchmark("engine.py", ("--bills", "100000"), ("--bills", "2000")),
    Benchmark(
        "tui.py",
        ("--rows", "1000000"),
        ("--rows", "20000", "--sync-bills", "60", "--lag-seconds", "1"),
    ),
)

_OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    label: str
    benchmark: str
    key: str
    op: str
    threshold: float
    unit: str = ""
    size_key: str | None = None  # the result key holding the size this target is defined at
    size: int | None = None


TARGETS: tuple[Target, ...] = (
    Target("Zoho budget use (alone)", "zoho_budget", "budget_use", ">=", 0.95),
    Target("Zoho code-44 429s (alone)", "zoho_budget", "code44_alone", "<=", 0),
    Target("Zoho 429 share (competing client at 30 %)", "zoho_budget", "share_429_competing", "<=", 0.01),
    Target("Zoho requests/bill, full pull", "zoho_budget", "requests_per_bill_full", "<=", 1.01),
    Target(
        "Zoho requests/bill, incremental (unchanged)",
        "zoho_budget",
        "requests_per_bill_unchanged",
        "<=",
        0.01,
    ),
    Target("Zoho requests/bill, by webhook", "webhook_requests", "requests_per_bill_webhook", "<=", 0),
    Target(
        "Zoho requests/bill of a full sync beyond the share with a document",
        "attachment_requests",
        "requests_per_bill_beyond_documents",
        "<=",
        1.01,
    ),
    Target("ServiceNow rows per request", "servicenow_stage", "rows_per_request", ">=", 50),
    Target(
        "ServiceNow requests per 1,000 invoices, status refresh",
        "servicenow_status",
        "status_requests_per_1000",
        "<=",
        10,
    ),
    Target("Engine bills/s (100k bills)", "engine", "bills_per_second", ">=", 1000, "/s", "bills", 100_000),
    Target("Engine peak RSS (100k bills)", "engine", "peak_rss_mb", "<=", 250, " MB", "bills", 100_000),
    Target("Audit page (1M rows)", "tui", "audit_page_ms", "<=", 100, " ms", "audit_rows", 1_000_000),
    Target("Audit filter (1M rows)", "tui", "audit_filter_ms", "<=", 100, " ms", "audit_rows", 1_000_000),
    Target("Event-loop lag p99 during a sync", "tui", "loop_lag_p99_ms", "<=", 50, " ms"),
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def evaluate(target: Target, result: Mapping[str, Any] | None) -> dict[str, Any]:
    """One table row: the measured value, whether it meets the target, and whether at the target's size."""
    value = _number((result or {}).get(target.key))
    met = value is not None and _OPS[target.op](value, target.threshold)
    size = (result or {}).get(target.size_key) if target.size_key else None
    at_size = target.size is None or (_number(size) is not None and float(size) >= target.size)
    return {
        "figure": target.label,
        "benchmark": target.benchmark,
        "key": target.key,
        "value": value,
        "target": f"{target.op} {target.threshold:g}{target.unit}",
        "met": met,
        "measured_size": size,
        "at_target_size": at_size,
    }


def assemble(results: Mapping[str, Mapping[str, Any] | None], *, quick: bool = False) -> dict[str, Any]:
    """The `--json` object: each benchmark's JSON under its name, the target rows and `all_targets_met`.

    A benchmark that is missing, failed, or lacks a figure fails its targets. `all_targets_met` needs every
    target met AND every size-bound figure measured at its size.
    """
    rows = [evaluate(target, results.get(target.benchmark)) for target in TARGETS]
    met_at_measured = all(row["met"] for row in rows)
    out: dict[str, Any] = {
        name: dict(result) if result is not None else None for name, result in results.items()
    }
    out["targets"] = rows
    out["quick"] = quick
    out["targets_met_at_measured_sizes"] = met_at_measured
    out["all_targets_met"] = met_at_measured and all(row["at_target_size"] for row in rows)
    return out


def _format_value(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def render_table(report: Mapping[str, Any]) -> str:
    rows = report["targets"]
    header = ("Figure", "Measured", "Target", "")
    body = []
    for row in rows:
        verdict = "met" if row["met"] else "MISSED"
        if not row["at_target_size"]:
            verdict += f" (at {row['measured_size']}, not the target size)"
        body.append((row["figure"], _format_value(row["value"]), row["target"], verdict))
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(4)]
    lines = [
        "  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    errors = [
        f"{name}: {res['error']}" for name, res in report.items() if isinstance(res, dict) and "error" in res
    ]
    verdict = "all targets met" if report["all_targets_met"] else "NOT all targets met"
    if report.get("quick"):
        verdict += " (quick run: reduced sizes prove nothing about size-bound targets)"
    return "\n".join([*lines, "", *errors, verdict])


def _last_json_object(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            parsed = json.loads(line)
            if isinstance(parsed, dict):
                return parsed
    raise ValueError("no JSON object on stdout")


def run_benchmark(bench: Benchmark, *, quick: bool, timeout_s: float) -> dict[str, Any]:
    """Run one script with `--json`; its JSON object, or {"error": ...}."""
    args = [
        sys.executable,
        str(HERE / bench.script),
        *(bench.quick_args if quick else bench.full_args),
        "--json",
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    try:
        result = _last_json_object(done.stdout)
    except ValueError as exc:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}, {exc}: {' | '.join(tail)}"}
    result.setdefault("_run_all_seconds", round(time.perf_counter() - started, 1))
    if done.returncode != 0:
        result.setdefault("_exit_code", done.returncode)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every zbsn benchmark and compare with its target.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="reduced sizes: a smoke check, not the figures")
    parser.add_argument("--only", default="", help="comma-separated script names (e.g. zoho_budget,engine)")
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per benchmark")
    args = parser.parse_args(argv)
    chosen = {name.strip().removesuffix(".py") for name in args.only.split(",") if name.strip()}
    unknown = chosen - {b.name for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict[str, dict[str, Any] | None] = {}
    for bench in BENCHMARKS:
        if chosen and bench.name not in chosen:
            results[bench.name] = None
            continue
        if not args.json:
            print(f"running {bench.script} ...", file=sys.stderr, flush=True)
        results[bench.name] = run_benchmark(bench, quick=args.quick, timeout_s=args.timeout_s)
    report = assemble(results, quick=args.quick)
    if args.json:
        print(json.dumps(report, default=str))
    else:
        print(render_table(report))
    return 0 if report["all_targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
