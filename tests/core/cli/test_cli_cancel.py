"""`zbsn sync` stops cleanly on SIGINT: the run is recorded as cancelled, the lock released, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from zbsn.core.db.models import RunLock, SyncRun
from zbsn.core.domain import RunStatus
from zbsn.sandbox.demo import start_demo


def test_sigint_cancels_the_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cancel.db'}"
    demo = start_demo(url, seed=7, bills=200, webhooks=False)  # 100 Zoho requests a minute: a long run
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "zbsn.core.cli.main", "--db", url, "sync", "--full", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 60
        while True:
            with Session(demo.db_engine) as session:
                running = session.exec(select(SyncRun)).first()
            if running is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert running is not None, "the run never started"
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 130, out
        with Session(demo.db_engine) as session:
            run = session.exec(select(SyncRun)).one()
            assert run.status == RunStatus.CANCELLED
            assert session.exec(select(RunLock)).all() == []
    finally:
        if process.poll() is None:
            process.kill()
        demo.stop()
