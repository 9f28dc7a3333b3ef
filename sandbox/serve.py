"""Serve an ASGI app over real HTTP on loopback, in a background thread, on one or more ports.

One uvicorn server can listen on several sockets; the Zoho sandbox uses that to give every data centre's
accounts server and API domain a distinct base URL while sharing one app and one state.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this on Linux; without it, small keep-alive responses wait ~40 ms for
    # Nagle + delayed ACK, which would make every simulated API call look slow.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # signals belong to the main thread's owner
        return None


class LoopbackServer:
    """Run `app` on `count` loopback ports; `urls` lists their base URLs in order."""

    def __init__(
        self,
        app: Any,
        *,
        count: int = 1,
        host: str = "127.0.0.1",
        ports: Sequence[int] | None = None,
        log_level: str = "warning",
    ) -> None:
        self.app = app
        self.host = host
        wanted = list(ports) if ports is not None else [0] * count
        self._sockets = [_bind(host, port) for port in wanted]
        self.ports = [sock.getsockname()[1] for sock in self._sockets]
        self.urls = [f"http://{host}:{port}" for port in self.ports]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            limit_concurrency=None,
        )
        self._server = _ThreadServer(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The first (often the only) base URL."""
        return self.urls[0]

    def start(self, timeout: float = 10.0) -> LoopbackServer:
        """Start serving and wait until the sockets accept requests."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": self._sockets}, name="loopback-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("loopback server failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError("loopback server did not start in time")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
