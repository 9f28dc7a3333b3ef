"""Console benchmark: audit pages over a large log, and event-loop lag during a sync.

    python benchmarks/tui.py [--rows 1000000] [--sync-bills 400] [--json]

1. Builds an N-row audit log in a temporary SQLite database (indexes dropped during the bulk insert and
   rebuilt after, as a restore would), then times, through `zbsn.core.audit_query` (the Audit screen's code
   path): the first page and a deep page (`audit_page_ms`, the worse of the two), and every filter the
   screen offers: status, status and kind, free text, text and status, run, period (`audit_filter_ms`, the
   worst of them). Each figure is the median of several runs.
2. REAL sync (reported as `loop_lag_p99_ms`): starts both sandboxes and connects to them with
   `zbsn.sandbox.demo.start_demo` (the Zoho window shrunk to `--sync-window-s`, so the run is paced by the
   budget like a real one, only faster), opens the real console headless (`run_test`) on the Run screen,
   presses S (full run) as an operator would, pages the Audit screen meanwhile, and samples the UI loop's
   lag with a 10 ms timer until the run has finished. The sandboxes run in this process too (threads), so
   their work competes with the console for the interpreter: a harsher setting than a real deployment.
3. SIMULATED stream (reported as `simulated_loop_lag_p99_ms`): the same console, fed a synthetic event
   stream at `--events-per-second` from another thread while the Audit screen pages: a deterministic,
   repeatable load independent of the sandboxes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from zbsn.core import audit_query
from zbsn.core.audit_query import AuditFilter
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.engine.events import (
    STAGES,
    BudgetChanged,
    RecordFailed,
    RecordStaged,
    RunFinished,
    RunStarted,
    StageProgressed,
    StageStarted,
)

KINDS = ("bill", "bill", "bill", "payment", "supplier", "cost_center", "gl_account")
VENDORS = [
    f"{name} {suffix}"
    for name in (
        "Acme",
        "Bright",
        "Contoso",
        "Delta",
        "Evergreen",
        "Fabrikam",
        "Globex",
        "Initech",
        "Umbrella",
        "Wayne",
    )
    for suffix in ("Ltd", "GmbH", "LLC", "SA")
]
STATUSES = ["staged"] * 95 + ["failed"] * 3 + ["skipped"] * 2
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def build_log(path: Path, rows: int) -> sa.Engine:
    """A migrated SQLite database holding `rows` audit records, newest 2025-03-31."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=OFF")
    now = "2025-03-31 00:00:00.000000"
    raw.executemany(
        "INSERT INTO connection (kind, name, state, created_at, updated_at) VALUES (?, ?, 'connected', ?, ?)",
        [("zoho", "z", now, now), ("servicenow", "s", now, now)],
    )
    raw.execute(
        "INSERT INTO sync_profile (name, zoho_connection_id, servicenow_connection_id, cost_center_source,"
        " cost_center_tag_name, allow_supplier_create, erp_source, overlap_seconds, full_sweep_hours,"
        " enabled, created_at) VALUES ('p', 1, 2, 'reporting_tag', 'Cost Center', 0, 'Zoho Books', 300, 24,"
        " 1, ?)",
        (now,),
    )
    raw.executemany(
        "INSERT INTO sync_run (profile_id, trigger, mode, status, started_at, staged, failed, skipped,"
        " unchanged, zoho_requests, servicenow_requests)"
        " VALUES (1, 'manual', 'changed', 'succeeded', ?, 0, 0, 0, 0, 0, 0)",
        [((datetime(2025, 3, 31, tzinfo=UTC) - timedelta(days=d)).strftime(STAMP),) for d in range(100)],
    )
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master"
        " WHERE type = 'index' AND tbl_name = 'audit_record' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    rng = random.Random(42)
    newest = datetime(2025, 3, 31, 23, 59, tzinfo=UTC)

    def generate() -> Any:
        for i in range(rows):
            kind = KINDS[i % len(KINDS)]
            status = rng.choice(STATUSES)
            updated = (newest - timedelta(seconds=i * 30)).strftime(STAMP)
            doc_date = (newest - timedelta(seconds=i * 30 + rng.randint(0, 86_400 * 5))).strftime("%Y-%m-%d")
            zoho_id = f"46{i:016d}"
            number = f"BILL-{i:07d}" if kind == "bill" else f"{kind[:3].upper()}-{i:07d}"
            failed = status == "failed"
            yield (
                1,
                1 + (i // 10_000) % 100,
                kind,
                zoho_id,
                number,
                rng.choice(VENDORS),
                f"{rng.randint(1, 99999)}.50",
                "GBP",
                doc_date,
                f"ZB-1-{kind}-{zoho_id}",
                status,
                "UNMAPPED_COST_CENTER" if failed else None,
                "Cost center 'Marketing - Lisbon' is not mapped" if failed else None,
                "error" if failed else "inserted",
                1,
                updated,
                updated,
            )

    raw.executemany(
        "INSERT INTO audit_record (profile_id, run_id, kind, zoho_id, zoho_number, vendor_name, amount,"
        " currency, doc_date, external_key, status, error_code, error_message, staging_status, attempts,"
        " created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        generate(),
    )
    for _, sql in indexes:
        raw.execute(sql)
    raw.commit()
    raw.close()
    return engine


def median_ms(action: Callable[[], Any], repeat: int = 7) -> float:
    action()  # warm the page cache once, as an open console would have
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def time_pages(engine: sa.Engine) -> dict[str, float]:
    first = audit_query.page(engine, AuditFilter())
    deep = first
    for _ in range(50):
        deep = audit_query.page(engine, AuditFilter(), after=deep.next_cursor)
    failed = AuditFilter(status="failed")
    failed_first = audit_query.page(engine, failed)
    results = {
        "first page": median_ms(lambda: audit_query.page(engine, AuditFilter())),
        "page 52 (keyset)": median_ms(
            lambda: audit_query.page(engine, AuditFilter(), after=deep.next_cursor)
        ),
        "failed, first page": median_ms(lambda: audit_query.page(engine, failed)),
        "failed, next page": median_ms(
            lambda: audit_query.page(engine, failed, after=failed_first.next_cursor)
        ),
        "failed bills, first page": median_ms(
            lambda: audit_query.page(engine, AuditFilter(status="failed", kind="bill"))
        ),
        "text 'BILL-00042' (number prefix)": median_ms(
            lambda: audit_query.page(engine, AuditFilter(text="BILL-00042"))
        ),
        "text 'acme' (vendor prefix)": median_ms(lambda: audit_query.page(engine, AuditFilter(text="acme"))),
        "text + failed": median_ms(
            lambda: audit_query.page(engine, AuditFilter(text="acme", status="failed"))
        ),
        "run filter": median_ms(lambda: audit_query.page(engine, AuditFilter(run_id=3))),
        "period filter (one month)": median_ms(
            lambda: audit_query.page(engine, AuditFilter(period_from="2024-12-01", period_to="2024-12-31"))
        ),
        "counts per status (bounded 10,000)": median_ms(
            lambda: audit_query.status_counts(engine, AuditFilter()), repeat=3
        ),
    }
    return results


def simulated_run_events(stop: threading.Event, publish: Callable[[Any], None], per_second: int) -> int:
    """A sync's event stream: records, progress and budget updates at `per_second` events/s."""
    published = 0
    publish(RunStarted(run_id=1, profile_id=1, mode="full", trigger="manual"))
    interval = 1.0 / per_second
    next_at = time.perf_counter()
    i = 0
    while not stop.is_set():
        stage = STAGES[(i // 2000) % len(STAGES)]
        if i % 2000 == 0:
            publish(StageStarted(run_id=1, stage=stage, total=2000))
        if i % 10 == 0:
            publish(StageProgressed(run_id=1, stage=stage, done=i % 2000, total=2000))
        if i % 25 == 0:
            publish(
                BudgetChanged(
                    organization_id="1",
                    used_this_window=i % 100,
                    per_window_limit=100,
                    window_seconds=60,
                    remaining_today=10_000 - i // 10,
                    daily_limit=10_000,
                    reset_at=None,
                    queue_depth=i % 7,
                    in_flight=2,
                    paused_until=None,
                    pause_reason=None,
                )
            )
        if i % 50 == 7:
            publish(
                RecordFailed(
                    run_id=1,
                    kind="bill",
                    zoho_id=str(i),
                    number=f"BILL-{i}",
                    error_code="X",
                    message="Cost center not mapped",
                )
            )
        else:
            publish(
                RecordStaged(
                    run_id=1,
                    kind="bill",
                    zoho_id=str(i),
                    number=f"BILL-{i}",
                    staging_status="inserted",
                    sn_sys_id=None,
                )
            )
        published += 1
        i += 1
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    publish(
        RunFinished(
            run_id=1,
            status="succeeded",
            staged=i,
            failed=i // 50,
            skipped=0,
            unchanged=0,
            zoho_requests=0,
            servicenow_requests=0,
            message=None,
        )
    )
    return published


class LagProbe:
    """A 10 ms timer on the app's loop; each tick records how late it fired (ms)."""

    PERIOD_S = 0.01

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._expected = 0.0

    def start(self, app: Any) -> None:
        self._expected = time.perf_counter() + self.PERIOD_S
        app.set_interval(self.PERIOD_S, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, (now - self._expected) * 1000))
        self._expected = now + self.PERIOD_S

    def summary(self) -> dict[str, float]:
        lags = sorted(self.lags)
        return {
            "p99": lags[max(0, int(len(lags) * 0.99) - 1)] if lags else 0.0,
            "p50": lags[len(lags) // 2] if lags else 0.0,
            "max": lags[-1] if lags else 0.0,
            "samples": float(len(lags)),
        }


async def page_audit(audit: Any, step: int) -> None:
    """The operator pages the audit log while the run goes on: older, older, newer, … and every 2 s
    switches the failed-only filter (a new first page plus the bounded status counts)."""
    if step % 8 == 7:
        audit.action_toggle_failed()
    elif step % 3 == 2:
        audit.action_newer()
    else:
        audit.action_older()
    await asyncio.sleep(0.25)


async def open_on_run_screen(app: Any, pilot: Any) -> None:
    app.action_console_go("audit")
    await pilot.pause()
    await app.workers.wait_for_complete()
    app.action_console_go("run")
    await pilot.pause()
    await asyncio.sleep(0.5)  # let the screens finish mounting: start-up is not the steady state


async def loop_lag(engine: sa.Engine, seconds: float, per_second: int) -> dict[str, float]:
    """SIMULATED: p99 / max event-loop lag (ms) of the real app on the Run screen while events stream in."""
    from zbsn.core.settings import Settings
    from zbsn.tui.app import make_app

    app = make_app(engine.url.render_as_string(hide_password=False), Settings(), profile_id=1, serve=False)
    context = app.context
    probe = LagProbe()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_on_run_screen(app, pilot)
        probe.start(app)
        stop = threading.Event()
        producer = threading.Thread(
            target=simulated_run_events, args=(stop, context.bus, per_second), daemon=True
        )
        producer.start()
        audit = app.get_screen("audit")
        deadline = time.perf_counter() + seconds
        step = 0
        while time.perf_counter() < deadline:
            await page_audit(audit, step)
            step += 1
        stop.set()
        producer.join()
        await pilot.pause()
    return probe.summary()


async def sync_lag(bills: int, window_s: float, timeout_s: float) -> dict[str, Any]:
    """REAL: event-loop lag (ms) of the console on the Run screen during a full run against the sandboxes."""
    from zbsn.core.settings import Settings
    from zbsn.sandbox.demo import start_demo
    from zbsn.tui.main import demo_app

    settings = Settings()
    with start_demo(settings=settings, bills=bills, rate_window_s=window_s, webhooks=False) as demo:
        app = demo_app(demo)
        probe = LagProbe()
        async with app.run_test(size=(160, 48)) as pilot:
            await open_on_run_screen(app, pilot)
            run_screen = app.screen
            probe.start(app)
            started = time.perf_counter()
            await pilot.press("S")  # the full run, as the operator starts it
            audit = app.get_screen("audit")
            step = 0
            while run_screen.running:  # type: ignore[attr-defined]
                if time.perf_counter() - started > timeout_s:
                    raise RuntimeError(f"the run did not finish within {timeout_s:.0f}s")
                await page_audit(audit, step)
                step += 1
            seconds = time.perf_counter() - started
            samples = list(probe.lags)
            await pilot.pause()
            counts = dict(run_screen.counts)  # type: ignore[attr-defined]
        probe.lags = samples
        return {**probe.summary(), "seconds": seconds, "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit rows to build (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--lag-seconds", type=float, default=5.0, help="simulated stream's duration")
    parser.add_argument("--events-per-second", type=int, default=500, help="simulated stream's rate")
    parser.add_argument("--sync-bills", type=int, default=400, help="bills in the sandbox for the real run")
    parser.add_argument(
        "--sync-window-s",
        type=float,
        default=1.0,
        help="Zoho's rate window in the sandbox and the budget (100 requests per window; real: 60)",
    )
    parser.add_argument("--sync-timeout-s", type=float, default=300.0)
    args = parser.parse_args()
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr))
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        engine = build_log(Path(folder) / "bench.db", args.rows)
        say(f"built {args.rows:,} audit rows in {time.perf_counter() - start:.1f}s")
        pages = time_pages(engine)
        for name, ms in pages.items():
            say(f"  {name:<38} {ms:8.1f} ms")
        say(
            f"event-loop lag: SIMULATED event stream at {args.events_per_second}/s for {args.lag_seconds}s "
            "(engine events into the real app's bus; the Audit screen pages meanwhile)"
        )
        simulated = asyncio.run(loop_lag(engine, args.lag_seconds, args.events_per_second))
        say(
            f"  p99 {simulated['p99']:.1f} ms · max {simulated['max']:.1f} ms "
            f"over {int(simulated['samples'])} ticks"
        )
        engine.dispose()
    say(
        f"event-loop lag: REAL full run of {args.sync_bills} bills against the in-process sandboxes "
        f"(Zoho window {args.sync_window_s:g}s), started with S on the Run screen; the Audit screen pages"
    )
    real = asyncio.run(sync_lag(args.sync_bills, args.sync_window_s, args.sync_timeout_s))
    say(
        f"  p99 {real['p99']:.1f} ms · p50 {real['p50']:.1f} ms · max {real['max']:.1f} ms over "
        f"{int(real['samples'])} ticks; the run took {real['seconds']:.1f}s: {real['counts']}"
    )
    page_ms = max(pages["first page"], pages["page 52 (keyset)"])
    # the worst of every filter the Audit screen offers: status, kind, free text, run and period
    filter_ms = max(v for k, v in pages.items() if k.startswith(("failed", "text", "run", "period")))
    result = {
        "audit_rows": args.rows,
        "audit_page_ms": round(page_ms, 2),
        "audit_filter_ms": round(filter_ms, 2),
        "loop_lag_p99_ms": round(real["p99"], 2),
        "loop_lag_source": f"real full run of {args.sync_bills} bills against the in-process sandboxes",
        "loop_lag_max_ms": round(real["max"], 2),
        "sync_seconds": round(real["seconds"], 2),
        "sync_counts": real["counts"],
        "simulated_loop_lag_p99_ms": round(simulated["p99"], 2),
        "simulated_loop_lag_max_ms": round(simulated["max"], 2),
        "simulated_events_per_second": args.events_per_second,
        "detail_ms": {k: round(v, 2) for k, v in pages.items()},
    }
    if args.json:
        print(json.dumps(result))
    else:
        verdict = lambda ok: "ok" if ok else "OVER TARGET"  # noqa: E731
        print(f"audit page   {page_ms:.1f} ms (target ≤ 100: {verdict(page_ms <= 100)})")
        print(f"audit filter {filter_ms:.1f} ms (target ≤ 100: {verdict(filter_ms <= 100)})")
        print(
            f"loop lag p99 {real['p99']:.1f} ms (target ≤ 50: {verdict(real['p99'] <= 50)}; "
            f"real sync of {args.sync_bills} bills)"
        )
        print(
            f"loop lag p99 {simulated['p99']:.1f} ms (target ≤ 50: {verdict(simulated['p99'] <= 50)}; "
            f"simulated stream, {args.events_per_second} events/s)"
        )


if __name__ == "__main__":
    main()
