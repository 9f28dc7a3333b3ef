"""The core never drags in the TUI: importing every zbsn.core module leaves Textual unloaded."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import zbsn.core


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(zbsn.core.__path__, "zbsn.core."))


def test_core_modules_exist() -> None:
    assert "zbsn.core.db.models" in _core_modules()


def test_importing_core_does_not_import_textual() -> None:
    modules = [m for m in _core_modules() if ".migrations." not in m]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = ('textual', 'zbsn.tui')\n"
        "leaked = sorted(m for m in sys.modules if m in ui or m.startswith(tuple(u + '.' for u in ui)))\n"
        "print(','.join(leaked))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"core imported UI modules: {done.stdout.strip()}"
