"""The pre-flight of a ServiceNow connection (`Workspace.preflight`) under the Connect screen's ServiceNow
panel: ready or not, and what the instance lacks, in the words an admin acts on."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from zbsn.core.workspace import PreflightCheck

MAX_WARNINGS = 4  # the rest are counted; `zbsn doctor` lists them all


def render_preflight(check: PreflightCheck) -> RenderableType:
    """A headline, then each problem (blocking) and the first warnings."""
    if check.error:
        return Text(f"Pre-flight could not run: {check.error}", style="red")
    parts: list[RenderableType] = []
    if check.ok:
        extra = f", {len(check.warnings)} warning(s)" if check.warnings else ""
        parts.append(Text(f"Pre-flight: ready for staging{extra}.", style="green"))
    else:
        parts.append(
            Text(
                f"Pre-flight: runs are refused until the instance has what staging needs "
                f"({len(check.problems)} problem(s)):",
                style="bold red",
            )
        )
        parts += [Text(f"• {problem}", style="red") for problem in check.problems]
    parts += [Text(f"• {warning}", style="yellow") for warning in check.warnings[:MAX_WARNINGS]]
    hidden = len(check.warnings) - MAX_WARNINGS
    if hidden > 0:
        parts.append(Text(f"… and {hidden} more (zbsn doctor lists them all)", style="dim"))
    return Group(*parts)
