"""Benchmark: many orgs, many workers, one PostgreSQL (issue 18). Orgs synced per minute by worker count.

Starts PostgreSQL as `.ci/run` does (`.ci/postgres.sh`: Debian's package, a throwaway cluster on loopback;
or `--postgres-url` to use a running server), then for every count of orgs (default 5, 20, 50) and of
`zbsn worker` processes (default 1, 2, 4): a fresh database, a fleet of Zoho sandbox orgs in a process of
its own (`python -m zbsn.sandbox.fleet`: one sandbox per org, each with Zoho's real limit of 100 requests
per window, the window shortened from 60 s as the demo does, and one ServiceNow sandbox), every org
connected and paired with the instance, the workers started (and registered, waiting for jobs), then a
sync of every org queued. The clock runs from the queueing until every org's sync has finished (a worker's
start-up, ~2 s of imports, is paid once per process, not per org, so it is left out).

Printed per run: orgs synced per minute and its ratio to 1 worker at the same org count (targets, when the
orgs outnumber the workers: >= 1.8 at 2 workers, >= 3.2 at 4), the most requests any org received within
any window (sliding, refused ones included; <= 100), 429 code-44 answers (0), duplicate invoices in
ServiceNow (0) and good bills missing from it (0). A worker runs one org at a time (`--concurrency 1`), so
throughput comes from workers; each org's sync waits on Zoho's window, as a real one does.

Why a 10 s window by default: a worker and the sandboxes spend ~3.3 s of CPU on a 150-bill org (~20 ms
a bill; PostgreSQL's not counted), so with a 3 s window an org's sync is CPU-bound, not budget-bound, and
4 workers need more than a 2-core host gives (measured: ratio 1.58-1.86 at 4 workers, load 7-17). At 10 s
one worker needs ~0.16 core and the ratio shows what the queue does (1.94 at 2, 3.72 at 4).
The full default grid then takes ~45 minutes; `--orgs 20` alone ~15.

Run: `python benchmarks/scale.py [--orgs 5,20,50] [--workers 1,2,4] [--bills 150] [--window 10]
[--postgres-url postgresql+psycopg://…] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
RATIO_TARGETS = {2: 1.8, 4: 3.2}
DONE = ("succeeded", "completed_with_failures")


@dataclass
class Result:
    orgs: int
    workers: int
    seconds: float
    orgs_per_minute: float
    ratio_to_one_worker: float | None
    max_requests_in_any_window: int
    code44: int
    duplicates: int
    missing: int
    zoho_requests: int
    cpu_seconds_per_org: float  # workers' and sandboxes' CPU (not PostgreSQL's) over the timed part, per org
    cores_busy: float  # that CPU over the wall clock: what the run needed of the machine's cores
    load_average: float  # the machine's 1-minute load at the end (other work on a shared host shows here)


# --- PostgreSQL, as .ci/run starts it ---------------------------------------------------------------------
def start_postgres() -> tuple[str, str]:
    """Run .ci/postgres.sh; (SQLAlchemy URL of its database, its data directory)."""
    last = Path("/tmp/zbsn-pg-last")  # noqa: S108 - the file .ci/postgres.sh and .ci/run share
    before = last.read_text() if last.exists() else None
    out = subprocess.run(
        ["bash", str(REPO / ".ci" / "postgres.sh")], capture_output=True, text=True, check=True
    )
    url = out.stdout.strip().splitlines()[-1]
    data_dir = last.read_text().strip()
    if before is not None:  # a CI run on this machine stops the cluster named there: leave it its own
        last.write_text(before)
    return url, data_dir


def stop_postgres(data_dir: str) -> None:
    """Stop the cluster `start_postgres` started (as .ci/run's trap does)."""
    bins = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")]
    )
    command = [str(bins[-1] / "pg_ctl"), "-D", data_dir, "stop", "-m", "fast"]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, capture_output=True, check=False)
    shutil.rmtree(data_dir, ignore_errors=True)  # a throwaway cluster, as mktemp made it


def fresh_database(server_url: str) -> str:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"zbsn_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


# --- the fleet of sandboxes, in a process of its own ------------------------------------------------------
class FleetProcess:
    def __init__(self, orgs: int, bills: int, window: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zbsn.sandbox.fleet", "--orgs", str(orgs), "--bills", str(bills),
             "--window-seconds", str(window)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())

    def counters(self) -> list[dict[str, Any]]:
        return [
            httpx.get(f"{org['admin_url']}/counters", timeout=60).json()["api"] for org in self.info["orgs"]
        ]

    def invoices(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.info['servicenow_admin_url']}/tables/sn_shop_invoice", timeout=300)
        body = response.json()
        return list(body.get("result", body) if isinstance(body, dict) else body)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


# --- one run ----------------------------------------------------------------------------------------------
def worker_env(url: str, window: float) -> dict[str, str]:
    return {
        **os.environ,
        "ZBSN_DATABASE_URL": url,  # in the environment, never on a command line
        "ZBSN_ZOHO__WINDOW_SECONDS": str(window),
        "ZBSN_JOBS__TICK_SECONDS": "5",
        "ZBSN_LOG_LEVEL": "WARNING",
    }


def connect_fleet(url: str, info: dict[str, Any], window: float) -> list[int]:
    """Connect every org and the instance through zbsn's workspace, as `zbsn connect` would; profile ids."""
    from zbsn.core.services import open_services
    from zbsn.core.settings import Settings
    from zbsn.sandbox.fleet_connect import connect_fleet as connect_orgs

    services = open_services(Settings(zoho={"window_seconds": window}), url)  # type: ignore[arg-type]
    try:
        return list(asyncio.run(connect_orgs(services.workspace, info)))
    finally:
        services.close()


def enqueue(url: str, profiles: list[int]) -> None:
    from zbsn.core.jobs.queue import JobQueue, with_queue
    from zbsn.core.services import open_services

    services = open_services(None, url)

    async def body(queue: JobQueue) -> None:
        for profile_id in profiles:
            await queue.sync(profile_id)

    try:
        asyncio.run(with_queue(services.job_app(), body))
    finally:
        services.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU these processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def wait_for_workers(engine: sa.Engine, workers: int, timeout: float = 120.0) -> None:
    """Until `workers` worker processes have registered with procrastinate (they then wait for jobs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM procrastinate_workers")).scalar_one() >= workers:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{workers} workers did not start within {timeout:g} s")


def finished(engine: sa.Engine) -> tuple[int, int]:
    """(profiles with a finished sync, Zoho requests of those runs)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT profile_id, zoho_requests FROM sync_run WHERE status IN :done").bindparams(
                sa.bindparam("done", expanding=True)
            ),
            {"done": list(DONE)},
        ).all()
    return len({r[0] for r in rows}), sum(r[1] for r in rows)


def failed_runs(engine: sa.Engine) -> list[tuple[int, str, str | None]]:
    """(profile, status, message) of the runs that ended failed or needing re-authorisation."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT profile_id, status, message FROM sync_run WHERE status IN ('failed', 'reauth')")
        ).all()
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def one_run(server_url: str, orgs: int, workers: int, bills: int, window: float) -> Result:
    from zbsn.sandbox.fleet import fleet_company, stageable_bill_ids

    url = fresh_database(server_url)
    fleet = FleetProcess(orgs, bills, window)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        profiles = connect_fleet(url, fleet.info, window)
        engine = sa.create_engine(url)
        env = worker_env(url, window)
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "zbsn.core.cli.main", "worker", "--concurrency", "1"], env=env
            )
            for _ in range(workers)
        ]
        wait_for_workers(engine, workers)  # their start-up (imports, pools) is not the throughput measured
        began = time.monotonic()
        cpu_began = cpu_seconds([fleet.process.pid, *(w.pid for w in processes)])
        enqueue(url, profiles)
        done, requests = 0, 0
        while done < orgs:
            time.sleep(0.2)
            done, requests = finished(engine)
            if failed := failed_runs(engine):
                raise RuntimeError(f"a sync ended badly, the figures would mean nothing: {failed}")
            if time.monotonic() - began > 3600:
                raise TimeoutError(f"{done} of {orgs} orgs synced in an hour")
        seconds = time.monotonic() - began
        cpu = cpu_seconds([fleet.process.pid, *(w.pid for w in processes)]) - cpu_began
        engine.dispose()
        counters = fleet.counters()
        invoices = Counter(r["external_invoice_number"] for r in fleet.invoices())
        good = stageable_bill_ids(fleet_company(0, bills))
        wanted = {f"ZB-{org['organization_id']}-{bill}" for org in fleet.info["orgs"] for bill in good}
        return Result(
            orgs=orgs,
            workers=workers,
            seconds=round(seconds, 1),
            orgs_per_minute=round(orgs / seconds * 60, 2),
            ratio_to_one_worker=None,
            max_requests_in_any_window=max(c["max_in_window"] for c in counters),
            code44=sum(int(c["rejections"].get("44", 0)) for c in counters),
            duplicates=sum(1 for n in invoices.values() if n > 1),
            missing=len(wanted - set(invoices)),
            zoho_requests=requests,
            cpu_seconds_per_org=round(cpu / orgs, 2),
            cores_busy=round(cpu / seconds, 2),
            load_average=round(os.getloadavg()[0], 1),
        )
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(120)
        fleet.stop()
        drop_database(server_url, url)


def with_ratios(results: list[Result]) -> list[Result]:
    alone = {r.orgs: r.orgs_per_minute for r in results if r.workers == 1}
    for r in results:
        if r.orgs in alone:
            r.ratio_to_one_worker = round(r.orgs_per_minute / alone[r.orgs], 2)
    return results


def packing_bound(orgs: int, workers: int) -> float:
    """The best ratio whole orgs allow: a worker syncs one org at a time, so the busiest does ceil(o/w)."""
    return orgs / -(-orgs // workers)


def target_applies(r: Result) -> bool:
    """Issue 18's ratio target counts when the orgs outnumber the workers and whole orgs can reach it."""
    return (
        r.workers in RATIO_TARGETS
        and r.orgs > r.workers
        and packing_bound(r.orgs, r.workers) >= (RATIO_TARGETS[r.workers])
    )


def verdict(results: list[Result]) -> dict[str, bool]:
    """Each target, over the runs it applies to."""
    ratios = [
        r.ratio_to_one_worker is not None and r.ratio_to_one_worker >= RATIO_TARGETS[r.workers]
        for r in results
        if target_applies(r)
    ]
    return {
        "ratio_targets_met": bool(ratios) and all(ratios),
        "max_in_window_le_100": all(r.max_requests_in_any_window <= 100 for r in results),
        "no_code44": all(r.code44 == 0 for r in results),
        "no_duplicates": all(r.duplicates == 0 for r in results),
        "none_missing": all(r.missing == 0 for r in results),
    }


def target_cell(r: Result) -> str:
    if r.workers not in RATIO_TARGETS or r.orgs <= r.workers:
        return ""
    return f">={RATIO_TARGETS[r.workers]:.1f}" if target_applies(r) else "(unreach.)"


def print_table(results: list[Result], window: float, bills: int, postgres: str) -> None:
    print(
        f"zbsn scale: {postgres}; each org a Zoho sandbox with its real limit of 100 requests per window, "
        f"the window shortened from 60 s to {window:g} s (as the demo shortens it); {bills} bills per org; "
        "one ServiceNow sandbox; `zbsn worker` processes, one org at a time each."
    )
    header = ("orgs", "workers", "seconds", "orgs/min", "ratio", "target", "bound", "max/window", "code 44",
              "duplicates", "missing", "cpu s/org", "cores", "load")  # fmt: skip
    print(" ".join(f"{h:>10}" for h in header))
    for r in results:
        ratio = "" if r.ratio_to_one_worker is None else f"{r.ratio_to_one_worker:.2f}"
        cells = (r.orgs, r.workers, f"{r.seconds:.1f}", f"{r.orgs_per_minute:.1f}", ratio, target_cell(r),
                 f"{packing_bound(r.orgs, r.workers):.2f}", r.max_requests_in_any_window, r.code44,
                 r.duplicates, r.missing, f"{r.cpu_seconds_per_org:.2f}", f"{r.cores_busy:.2f}",
                 f"{r.load_average:.1f}")  # fmt: skip
        print(" ".join(f"{c!s:>10}" for c in cells))
    print(
        "bound: the best ratio whole orgs allow (orgs / ceil(orgs / workers)); where it is below issue 18's "
        "target (5 orgs: 1.67 at 2 workers, 2.50 at 4) it is out of reach by arithmetic and not counted."
    )
    print(
        "cores: CPU of the workers and sandboxes (PostgreSQL's not counted) over the wall clock; this host "
        f"has {os.cpu_count()}. load: its 1-minute load average at the end of the run. A ratio falls short "
        "of the bound when the cores N workers need exceed what the host can give them."
    )
    for target, met in verdict(results).items():
        print(f"{target}: {met}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", default="5,20,50")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--bills", type=int, default=150)
    parser.add_argument("--window", type=float, default=10.0, help="Zoho's window in seconds (60 in reality)")
    parser.add_argument(
        "--postgres-url", default=None, help="A running server (default: start one as CI does)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="zbsn-scale-"))
    os.environ.update({"ZBSN_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    data_dir = None
    if args.postgres_url:
        server, postgres = args.postgres_url, "PostgreSQL (given)"
    else:
        server, data_dir = start_postgres()
        postgres = "PostgreSQL started by the benchmark (.ci/postgres.sh)"
    with sa.create_engine(server).connect() as conn:
        postgres += f", {conn.execute(sa.text('SHOW server_version')).scalar()}"
    results: list[Result] = []
    try:
        for orgs in [int(n) for n in args.orgs.split(",")]:
            for workers in [int(n) for n in args.workers.split(",")]:
                result = one_run(server, orgs, workers, args.bills, args.window)
                results.append(result)
                if not args.json:
                    print(f"  {orgs} orgs, {workers} worker(s): {result.seconds:.1f} s", file=sys.stderr)
    finally:
        if data_dir is not None:
            stop_postgres(data_dir)
        shutil.rmtree(home, ignore_errors=True)
    with_ratios(results)
    if args.json:
        print(json.dumps({"window_seconds": args.window, "bills_per_org": args.bills, "postgres": postgres,
                          "runs": [asdict(r) for r in results], **verdict(results)}))  # fmt: skip
    else:
        print_table(results, args.window, args.bills, postgres)
    return 0 if all(verdict(results).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
