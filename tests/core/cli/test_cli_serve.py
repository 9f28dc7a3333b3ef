"""`zbsn serve` as a real process: receives the sandbox's signed webhooks, then stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from zbsn.core.db.models import WebhookEvent
from zbsn.core.domain import InboxStatus
from zbsn.sandbox.demo import start_demo

SECRET = "serve-test-secret-42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(predicate: object, timeout_s: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            seen = log.read_text() if log is not None else ""
            raise AssertionError(f"timed out waiting for {what}; the process said:\n{seen}")
        time.sleep(0.1)


def test_serve_processes_webhooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    demo = start_demo(url, seed=7, bills=30, rate_window_s=2.0, webhooks=False)
    port = _free_port()
    stderr_path = tmp_path / "serve.err"
    env = {**os.environ, "ZBSN_WEBHOOK__SECRET": SECRET}
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "zbsn.core.cli.main", "--db", url, "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
    try:
        _wait_for(
            lambda: "zbsn serve:" in stderr_path.read_text() or process.poll() is not None,
            90,
            "the serve banner",
            stderr_path,
        )
        assert process.poll() is None, f"zbsn serve exited early: {stderr_path.read_text()}"
        demo.zoho.configure_webhooks(f"http://127.0.0.1:{port}/zoho/webhook/{demo.profile_id}", SECRET)
        bill_id = next(b.bill_id for b in demo.company.bills if b.status == "open" and not b.defect)
        demo.edit_bill(bill_id)
        deliveries = demo.zoho.wait_webhooks(60)
        assert deliveries, "the Zoho sandbox attempted no delivery"
        assert deliveries[-1]["outcome"] == "delivered", (deliveries[-1], stderr_path.read_text())

        def processed() -> bool:
            with Session(demo.db_engine) as session:
                events = session.exec(select(WebhookEvent)).all()
            return len(events) == 1 and events[0].status != InboxStatus.NEW

        _wait_for(processed, 90, "the webhook to be processed")
        with Session(demo.db_engine) as session:
            event = session.exec(select(WebhookEvent)).one()
        assert event.status == InboxStatus.PROCESSED, event.error
        assert event.entity_id == bill_id

        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, stderr_path.read_text()
        assert "stopped" in stderr_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        demo.stop()
