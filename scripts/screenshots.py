"""Regenerate screenshots/ : an SVG (and a PNG when cairosvg is installed) of every console screen.

    python scripts/screenshots.py [--out screenshots]

Drives the real app (`zbsn.tui.app.make_app`) headless through `run_test`, dark theme at 160x48, plus the
audit log at 80x24. Data: a temporary SQLite database populated directly (the test seed) and the test
suite's deterministic stand-ins for the engine and workspace, so the pictures are the same on every run.
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

from tests.core_audit.seed import seed_audit  # noqa: E402
from tests.tui.screens.conftest import add_schedules  # noqa: E402
from tests.tui.screens.fakes import AT, FakeEngineService, FakeWorkspace, run_events  # noqa: E402
from zbsn.core.db import migrate  # noqa: E402
from zbsn.core.db.engine import make_engine  # noqa: E402
from zbsn.core.settings import Settings  # noqa: E402
from zbsn.tui.app import make_app  # noqa: E402
from zbsn.tui.screens.services import ConsoleContext  # noqa: E402

Step = Callable[[Any, Any], Awaitable[None]]


async def settle(app: Any, pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause(0.3)


def go(screen: str, *keys: str) -> Step:
    async def step(app: Any, pilot: Any) -> None:
        await settle(app, pilot)
        if screen != "home":
            app.action_console_go(screen)
        await settle(app, pilot)
        if screen == "run":
            app.get_screen("run").preview_now = AT
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return step


def bills_tab(app: Any, pilot: Any) -> Awaitable[None]:
    async def step() -> None:
        await go("preview")(app, pilot)
        app.screen.query_one("#preview-tabs").active = "tab-bills"
        await settle(app, pilot)
        app.screen.query_one("#bill-table").focus()
        await pilot.press("down")
        await settle(app, pilot)

    return step()


SHOTS: list[tuple[str, tuple[int, int], Step]] = [
    ("home", (160, 48), go("home")),
    ("connect", (160, 48), go("connect")),
    ("preview-mappings", (160, 48), go("preview")),
    ("preview-bills", (160, 48), bills_tab),
    ("preview-override", (160, 48), go("preview", "m", "o")),
    ("run-finished", (160, 48), go("run", "s")),
    ("run-schedule", (160, 48), go("run", "a")),
    ("audit", (160, 48), go("audit")),
    ("audit-failed-selected", (160, 48), go("audit", "f", "space", "down", "space")),
    ("audit-reconcile", (160, 48), go("audit", "e")),
    ("help", (160, 48), go("audit", "f1")),
    ("audit-80x24", (80, 24), go("audit")),
]


async def shoot(folder: Path, out: Path, name: str, size: tuple[int, int], step: Step) -> Path:
    db = make_engine(f"sqlite:///{folder / (name + '.db')}")
    migrate.upgrade(db)
    seeded = seed_audit(db, records=240, runs=3)
    add_schedules(db, seeded.profile_id)
    context = ConsoleContext(
        db=db,
        profile_id=seeded.profile_id,
        workspace=FakeWorkspace(connected=True),
        engine_service=FakeEngineService(db),
        export_dir=str(folder),
    )
    for event in run_events()[1:3]:  # token states for the status bar
        context.bus(event)
    app = make_app(db, Settings(), apply_migrations=False, console=context)
    async with app.run_test(size=size) as pilot:
        app.theme = "textual-dark"
        await step(app, pilot)
        target = out / f"{name}.svg"
        app.save_screenshot(filename=target.name, path=str(out))
    db.dispose()
    return target


def to_png(svg: Path) -> Path | None:
    try:
        import cairosvg  # type: ignore[import-untyped]
    except ImportError:
        return None
    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, size, step in SHOTS:
            svg = await shoot(Path(folder), out, name, size, step)
            png = to_png(svg)
            print(f"{svg}" + (f" + {png.name}" if png else " (no PNG: pip install cairosvg)"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
