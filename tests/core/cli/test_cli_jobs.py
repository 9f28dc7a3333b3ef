"""`zbsn worker`, `zbsn sync --enqueue` and `zbsn replay --enqueue`: the job queue from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.cli.test_cli_story import Zbsn
from tests.external_sandbox import ExternalSandbox

EXIT_USAGE = 2


def _stderr_of(url: str, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "zbsn.core.cli.main", "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, " ".join(done.stderr.split())


def test_sqlite_deployments_have_no_queue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alone.db'}"
    code, said = _stderr_of(url, "worker")
    assert code == EXIT_USAGE
    assert "zbsn worker needs a PostgreSQL database" in said
    code, said = _stderr_of(url, "sync", "--enqueue", "--all")
    assert code == EXIT_USAGE
    assert "--enqueue needs a PostgreSQL database" in said


@pytest.mark.postgres
def test_enqueue_every_profile_once(external_sandbox: ExternalSandbox) -> None:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    for url in _fresh_postgres_database():
        external_sandbox.reset()
        profile = external_sandbox.connect_profile(url)
        zbsn = Zbsn(url, external_sandbox)
        [first] = zbsn("sync", "--enqueue", "--all", "--json")
        assert (first["profile_id"], first["queued"]) == (profile, True)
        [again] = zbsn("sync", "--enqueue", "--all", "--json")
        assert again["queued"] is False  # one sync of a profile waits in the queue at most
        replay = zbsn("replay", "--all-failed", "--enqueue", "--json")
        assert replay["records"] == 0  # nothing has failed yet; the job is queued all the same
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            queued = conn.execute(
                sa.text("SELECT task_name, lock FROM procrastinate_jobs WHERE status = 'todo' ORDER BY id")
            ).all()
        engine.dispose()
        assert [tuple(row) for row in queued] == [
            ("zbsn.sync", f"profile:{profile}"),
            ("zbsn.replay", f"profile:{profile}"),
        ]
