"""The package ships under one `zbsn` namespace: nothing generic lands at the top of site-packages.

Both checks build in a fresh virtual environment, the way a user installs zbsn, with `--no-deps` so they
measure only our layout (the modules imported here need no third-party package).
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = (
    "import importlib.util, zbsn.core, zbsn.tui, zbsn.sandbox;"
    "leaked = [n for n in ('core', 'tui', 'sandbox') if importlib.util.find_spec(n)];"
    "assert not leaked, leaked;"
    "print(zbsn.core.__version__, zbsn.core.__file__)"
)


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, REPO, cwd=out)
    (built,) = out.glob("zbsn-*.whl")
    return built


def test_wheel_holds_only_the_zbsn_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"zbsn", next(t for t in top_level if t.endswith(".dist-info"))}
    for expected in (
        "zbsn/core/__init__.py",
        "zbsn/tui/__init__.py",
        "zbsn/sandbox/__init__.py",
        "zbsn/core/db/migrations/env.py",
        "zbsn/core/db/migrations/script.py.mako",
    ):
        assert expected in names
    assert any(n.startswith("zbsn/core/db/migrations/versions/0001") for n in names)
    assert not any(n.startswith("zbsn/tests/") for n in names)


def test_wheel_install_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=tmp_path)
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    )
    assert not (site / "core").exists()
    assert not (site / "tui").exists()
    assert "zbsn/core" in _run(python, "-c", PROBE, cwd=tmp_path)


def test_editable_install_in_a_fresh_venv(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "-e", REPO, cwd=tmp_path)
    out = _run(python, "-c", PROBE, cwd=tmp_path)
    assert str(REPO / "core") in out, "the editable install must map zbsn.core onto this checkout"
