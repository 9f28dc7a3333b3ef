"""Regenerate screenshots/ : an SVG (and a PNG when cairosvg is installed) of every console screen.

    python scripts/screenshots.py [--out screenshots]

The console is the product as an operator runs it: plain `zbsn-tui` (`zbsn.tui.app.make_app`, no --demo)
on a database connected to `zbsn sandbox` running as a separate process (the seeded company, 80 bills):
the Preview before any run (every bill still to send), the rest after one real sync run (so the audit log
holds the bills the two missing cost centers block) and ServiceNow's invoice job. Dark theme at 160x48,
plus the audit log at 80x24 and the invoice views (the Preview's bill with a tax group, the Audit detail
of a staged bill with its document) at 120x40.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.external_sandbox import ExternalSandbox, run_coroutine  # noqa: E402
from zbsn.core.services import open_services  # noqa: E402
from zbsn.sandbox.company_generator import generate_company  # noqa: E402
from zbsn.tui.app import make_app  # noqa: E402

Step = Callable[[Any, Any], Awaitable[None]]


async def settle(app: Any, pilot: Any) -> None:
    for _ in range(4):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause(0.3)


def go(screen: str, *keys: str) -> Step:
    async def step(app: Any, pilot: Any) -> None:
        await settle(app, pilot)
        if screen != "home":
            app.action_console_go(screen)
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return step


async def bills_tab(app: Any, pilot: Any) -> None:
    await go("preview")(app, pilot)
    app.screen.query_one("#preview-tabs").active = "tab-bills"
    await settle(app, pilot)
    app.screen.query_one("#bill-table").focus()
    await pilot.press("down")
    await settle(app, pilot)


COMPANY = generate_company(7, 80)  # what `zbsn sandbox --bills 80 --seed 7` serves


def first_bill(condition: Callable[[Any], bool]) -> Any:
    """The first seeded bill a run stages that meets `condition`."""
    return next(
        b
        for b in COMPANY.bills
        if b.defect is None and b.status not in ("void", "draft", "pending_approval") and condition(b)
    )


async def invoice_in_preview(app: Any, pilot: Any) -> None:
    """The Bills tab with a bill carrying a tax group highlighted."""
    await go("preview")(app, pilot)
    app.screen.query_one("#preview-tabs").active = "tab-bills"
    await settle(app, pilot)
    table = app.screen.query_one("#bill-table")
    table.focus()
    bill = first_bill(lambda b: any(line.tax_components for line in b.lines))
    keys = [str(k.value) for k in table.rows]
    if bill.bill_id in keys:
        table.move_cursor(row=keys.index(bill.bill_id))
    await settle(app, pilot)


async def invoice_in_audit(app: Any, pilot: Any) -> None:
    """A staged bill with the vendor's document: the invoice as sent, scrolled into view."""
    await go("audit")(app, pilot)
    bill = first_bill(lambda b: bool(b.documents) and b.adjustment == 0)
    app.screen.query_one("#filter-text").value = bill.bill_number
    await settle(app, pilot)
    table = app.screen.query_one("#audit-table")
    table.focus()
    rows = app.screen.page_data.rows if app.screen.page_data else []
    table.move_cursor(row=next((i for i, r in enumerate(rows) if r.kind == "bill"), 0))
    await settle(app, pilot)
    app.screen.query_one("#audit-detail").scroll_to(y=17, animate=False)
    await settle(app, pilot)


async def reconcile(app: Any, pilot: Any) -> None:
    await go("audit", "e")(app, pilot)
    app.screen.query_one("#reconcile-period").value = "2026-09"
    await pilot.click("#reconcile-build")
    await settle(app, pilot)


async def servicenow_statuses(app: Any, pilot: Any) -> None:
    """R reads where each staged invoice stands in ServiceNow; the filter keeps those awaiting approval."""
    await go("audit", "R")(app, pilot)
    app.screen.query_one("#filter-sn").value = "pending_approval"
    await settle(app, pilot)
    app.screen.query_one("#audit-table").focus()
    await pilot.press("down")
    await settle(app, pilot)


async def finished_run(app: Any, pilot: Any) -> None:
    await go("run", "s")(app, pilot)
    for _ in range(600):
        if not app.screen.running:
            break
        await pilot.pause(0.1)
    await settle(app, pilot)


# The preview shows what a run would send: taken before the first run, every bill is still to send.
BEFORE_THE_RUN: list[tuple[str, tuple[int, int], Step]] = [
    ("preview-mappings", (160, 48), go("preview")),
    ("preview-bills", (160, 48), bills_tab),
    ("preview-override", (160, 48), go("preview", "m", "o")),
    ("preview-invoice", (120, 40), invoice_in_preview),
]
SHOTS: list[tuple[str, tuple[int, int], Step]] = [
    ("home", (160, 48), go("home")),
    ("connect", (160, 48), go("connect")),
    ("profiles", (160, 48), go("profiles")),
    ("overview", (160, 48), go("overview")),
    ("run-finished", (160, 48), finished_run),
    ("run-schedule", (160, 48), go("run", "a")),
    ("audit", (160, 48), go("audit")),
    ("audit-failed-selected", (160, 48), go("audit", "f", "space", "down", "space")),
    ("audit-reconcile", (160, 48), reconcile),
    ("audit-servicenow", (160, 48), servicenow_statuses),
    ("help", (160, 48), go("audit", "f1")),
    ("audit-80x24", (80, 24), go("audit")),
    ("audit-invoice", (120, 40), invoice_in_audit),
]


async def shoot(
    sandbox: ExternalSandbox, url: str, out: Path, name: str, size: tuple[int, int], step: Step
) -> Path:
    app = make_app(url, sandbox.settings(), serve=False)
    async with app.run_test(size=size) as pilot:
        app.theme = "textual-dark"
        await step(app, pilot)
        target = out / f"{name}.svg"
        app.save_screenshot(filename=target.name, path=str(out))
    return target


def to_png(svg: Path) -> Path | None:
    try:
        import cairosvg  # type: ignore[import-untyped]
    except ImportError:
        return None
    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png


def first_run(sandbox: ExternalSandbox, url: str, profile_id: int) -> None:
    """One real sync, so the audit log and the Run screen's history have something to show; then
    ServiceNow's invoice job checks what it staged (the next status refresh reads the outcome)."""
    services = open_services(sandbox.settings(), url)
    try:
        run_coroutine(services.engine.run(profile_id, mode="full"))
    finally:
        services.close()
    sandbox.run_servicenow_job()


def main(out: Path) -> None:
    sandbox = ExternalSandbox.start("--bills", "80", "--seed", "7", "--window-seconds", "2")
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'console.db'}"
            profile_id = sandbox.connect_profile(url, name="Northwind Advisory")
            for name, size, step in BEFORE_THE_RUN:
                svg = asyncio.run(shoot(sandbox, url, out, name, size, step))
                png = to_png(svg)
                print(f"{svg}" + (f" + {png.name}" if png else " (no PNG: pip install cairosvg)"))
            first_run(sandbox, url, profile_id)
            for name, size, step in SHOTS:
                svg = asyncio.run(shoot(sandbox, url, out, name, size, step))
                png = to_png(svg)
                print(f"{svg}" + (f" + {png.name}" if png else " (no PNG: pip install cairosvg)"))
    finally:
        sandbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    main(folder)
