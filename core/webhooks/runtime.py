"""The headless runtime behind `zbsn serve` (and the console's receiver): scheduler, webhook receiver, inbox.

All three share one event loop. With a job queue (a PostgreSQL deployment, `core/jobs`) the runtime only
receives: each stored event becomes a drain job of its profile, and the workers run schedules and events.
The receiver is served by uvicorn on `settings.webhook.host:port`; signals belong to whoever owns the loop
(the CLI sets SIGTERM/SIGINT to `request_stop`), so a stop lets the receiver finish answering, the processor
finish its event and scheduled runs finish before `serve` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import uvicorn

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.scheduling import RunStarter, Scheduler, ScheduleService
from zbsn.core.webhooks.inbox import WebhookInbox
from zbsn.core.webhooks.processor import InboxProcessor, RetryCheck, WebhookBillHandler
from zbsn.core.webhooks.receiver import ReceiverState, SecretLookup, make_receiver_app

log = logging.getLogger(__name__)


if TYPE_CHECKING:
    from procrastinate import App

    from zbsn.core.engine.runner import RunSummary
    from zbsn.core.engine.service import EngineService
    from zbsn.core.workspace import Workspace


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runtime's owner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ServeRuntime:
    """Run schedules, the webhook receiver and the inbox processor until asked to stop."""

    def __init__(
        self,
        db_engine: sa.Engine,
        *,
        handle_bill: WebhookBillHandler,
        start_run: RunStarter | None,
        secret_for_profile: SecretLookup,
        host: str = "127.0.0.1",
        port: int = 8765,
        replay_window_seconds: float | None = 300,
        is_retryable: RetryCheck | None = None,
        clock: Clock | None = None,
        receive_webhooks: bool = True,
        job_app: App | None = None,
        handle_payment: WebhookBillHandler | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.job_app = job_app  # enqueue webhook events instead of processing them here
        self.inbox = WebhookInbox(db_engine, self.clock)
        self.receiver_state = ReceiverState()
        self.processor = InboxProcessor(
            self.inbox, handle_bill, is_retryable=is_retryable, handle_payment=handle_payment
        )
        self.schedules = ScheduleService(db_engine, self.clock)
        self.scheduler = (
            Scheduler(self.schedules, start_run, clock=self.clock) if start_run and job_app is None else None
        )
        self._enqueued: set[asyncio.Task[None]] = set()
        self.app = make_receiver_app(
            self.inbox,
            secret_for_profile,
            on_stored=self._stored,
            replay_window_seconds=replay_window_seconds,
            clock=self.clock,
            state=self.receiver_state,
        )
        self.host = host
        self.port = port
        self.receive_webhooks = receive_webhooks
        self._stop = asyncio.Event()
        self._server: _QuietServer | None = None
        self._started = asyncio.Event()
        self._start_error: OSError | None = None

    def _stored(self, event_id: int) -> None:
        if self.job_app is None:
            self.processor.wake(event_id)
            return
        task = asyncio.get_running_loop().create_task(self._enqueue(event_id))
        self._enqueued.add(task)
        task.add_done_callback(self._enqueued.discard)

    async def _enqueue(self, event_id: int) -> None:
        """A drain job for the event's profile (lost on failure: the workers' periodic dispatch finds it)."""
        from zbsn.core.jobs.queue import JobQueue

        assert self.job_app is not None
        try:
            entry = await asyncio.to_thread(self.inbox.get, event_id)
            if entry is not None and entry.profile_id is not None:
                await JobQueue(self.job_app).webhooks(entry.profile_id)
        except Exception as exc:
            log.warning("webhook event %s not enqueued (%s); the next dispatch will", event_id, exc)

    @property
    def url(self) -> str | None:
        """The receiver's base URL once listening."""
        return self.receiver_state.listening_url

    def request_stop(self) -> None:
        """Begin a graceful shutdown (safe to call from a signal handler on the loop)."""
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True

    async def wait_started(self, wait_s: float = 10.0) -> None:
        """Wait until the receiver listens (or the runtime runs without one); re-raises a start failure
        such as the port being in use."""
        await asyncio.wait_for(self._started.wait(), wait_s)
        if self._start_error is not None:
            raise self._start_error

    async def serve(self) -> None:
        """Run everything until `request_stop`; returns after a graceful shutdown."""
        sock: socket.socket | None = None
        if self.receive_webhooks:
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self.port))
            except OSError as exc:
                if sock is not None:
                    sock.close()
                self._start_error = OSError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}")
                self._started.set()
                raise self._start_error from exc
            self.port = sock.getsockname()[1]
        async with contextlib.AsyncExitStack() as stack:
            if self.job_app is not None:
                await stack.enter_async_context(self.job_app.open_async())
            await self._serve(sock)

    async def _serve(self, sock: socket.socket | None) -> None:
        tasks: list[asyncio.Task[Any]] = []
        if self.job_app is None:
            tasks.append(asyncio.create_task(self.processor.run(self._stop), name="webhook-inbox"))
        if self.scheduler is not None:
            tasks.append(asyncio.create_task(self.scheduler.run(self._stop), name="scheduler"))
        if sock is not None:
            config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
            self._server = _QuietServer(config)
            tasks.append(asyncio.create_task(self._server.serve(sockets=[sock]), name="webhook-receiver"))
            while not self._server.started and not tasks[-1].done():  # noqa: ASYNC110 - uvicorn has a flag only
                await asyncio.sleep(0.01)
            self.receiver_state.listening_url = f"http://{self.host}:{self.port}"
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            self.request_stop()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                    log.error("serve task ended with %s", type(result).__name__)
            if self._enqueued:
                await asyncio.gather(*self._enqueued, return_exceptions=True)
            self.receiver_state.listening_url = None
            if sock is not None:
                sock.close()  # uvicorn closes only the sockets it opened itself


def runtime_for_workspace(
    workspace: Workspace,
    *,
    host: str | None = None,
    port: int | None = None,
    webhooks: bool = True,
    schedules: bool = True,
    on_scheduled_run: Callable[[RunSummary], None] | None = None,
    engine: EngineService | None = None,
    job_app: App | None = None,
) -> ServeRuntime:
    """The runtime of a workspace: scheduled runs and webhook bills go through its engine (or, with
    `job_app`, become jobs for the workers); the webhook secret is `settings.webhook.secret` (none: every
    delivery is refused) and only known profiles accept."""
    from sqlmodel import select

    from zbsn.core.db.engine import session_scope
    from zbsn.core.db.models import SyncProfile
    from zbsn.core.domain import RunTrigger
    from zbsn.core.engine.lock import RunLocked

    engine = engine if engine is not None else workspace.engine_service()
    settings = workspace.settings.webhook
    secret = settings.secret.get_secret_value() if settings.secret is not None else None

    async def start_run(profile_id: int, mode: str) -> object:
        summary = await engine.run(profile_id, mode=mode, trigger=RunTrigger.SCHEDULE)
        workspace.persist_token_states()
        if on_scheduled_run is not None:
            on_scheduled_run(summary)
        return summary.status

    async def handle_bill(profile_id: int, bill: dict[str, Any], event_type: str) -> object:
        return await engine.process_webhook_bill(profile_id, bill, event_type)

    async def handle_payment(profile_id: int, payment: dict[str, Any], event_type: str) -> object:
        return await engine.process_webhook_payment(profile_id, payment, event_type)

    def secret_for_profile(profile_id: int) -> str | None:
        with session_scope(workspace.db_engine) as session:
            known = session.exec(select(SyncProfile.id).where(SyncProfile.id == profile_id)).first()
        return secret if known is not None else None

    return ServeRuntime(
        workspace.db_engine,
        handle_bill=handle_bill,
        handle_payment=handle_payment,
        start_run=start_run if schedules else None,
        secret_for_profile=secret_for_profile,
        host=host or settings.host,
        port=settings.port if port is None else port,
        replay_window_seconds=settings.replay_window_seconds,
        is_retryable=lambda exc: isinstance(exc, RunLocked),
        clock=workspace.clock,
        receive_webhooks=webhooks,
        job_app=job_app,
    )
