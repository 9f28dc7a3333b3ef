"""One progress row per sync stage, in the engine's order (`events.STAGES`): rows an interrupted run left
pending, cost centers, GL accounts, suppliers, bills, their documents, payments, vendor credits, and the
invoices followed in ServiceNow at the end."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from zbsn.core.engine.events import STAGES, Stage
from zbsn.tui.widgets.formatting import STAGE_TITLES, finished_words
from zbsn.tui.widgets.repaint import set_text


class StageRow(Horizontal):
    """Title, bar and counts for one stage; every part has a fixed size, so updates only repaint."""

    DEFAULT_CSS = """
    StageRow { height: 1; }
    StageRow .stage-title { width: 15; height: 1; }
    StageRow ProgressBar { width: 1fr; height: 1; }
    StageRow ProgressBar Bar { width: 1fr; }
    StageRow .stage-counts { width: 40; height: 1; padding-left: 1; color: $text-muted; }
    StageRow.-done .stage-title { color: $success; }
    StageRow.-failures .stage-counts { color: $error; }
    """

    def __init__(self, stage: Stage) -> None:
        super().__init__(id=f"stage-{stage}")
        self.stage = stage

    def compose(self) -> ComposeResult:
        yield Label(STAGE_TITLES[self.stage], classes="stage-title")
        yield ProgressBar(total=1, show_eta=False, id=f"bar-{self.stage}")
        yield Label("waiting", classes="stage-counts")

    def _counts(self, text: str) -> None:
        set_text(self.query_one(".stage-counts", Label), text)

    def _bar(self, total: float | None, progress: float) -> None:
        bar = self.query_one(ProgressBar)
        if bar.total != total or bar.progress != progress:
            bar.update(total=total, progress=progress)

    def started(self, total: int | None) -> None:
        self._bar(total, 0)
        self._counts("reading…" if total is None else f"0 / {total:,}")

    def progressed(self, done: int, total: int | None) -> None:
        self._bar(total, done)
        self._counts(f"{done:,}" if total is None else f"{done:,} / {total:,}")

    def finished(self, staged: int, failed: int, skipped: int) -> None:
        bar = self.query_one(ProgressBar)
        self._bar(max(bar.total or 1, 1), max(bar.total or 1, 1))
        self.add_class("-done")
        self.set_class(failed > 0, "-failures")
        self._counts(finished_words(self.stage, staged, failed, skipped))

    def reset(self) -> None:
        self.remove_class("-done", "-failures")
        self._bar(1, 0)
        self._counts("waiting")


class StageProgress(Vertical):
    """One row per stage (`events.STAGES`), in the order the engine runs them."""

    DEFAULT_CSS = f"""
    StageProgress {{ height: {len(STAGES) + 2}; border: round $primary-darken-2; padding: 0 1; }}
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = "Progress by stage"

    def compose(self) -> ComposeResult:
        for stage in STAGES:
            yield StageRow(stage)

    def row(self, stage: Stage) -> StageRow:
        return self.query_one(f"#stage-{stage}", StageRow)

    def reset(self) -> None:
        for stage in STAGES:
            self.row(stage).reset()
