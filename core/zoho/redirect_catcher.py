"""A one-shot loopback HTTP listener that catches Zoho's consent redirect for the auth-code flow.

Start it, build the consent URL with its `redirect_uri` (which must be registered for the OAuth client),
open that URL in a browser, and await `wait()`: it returns the verified `ConsentRedirect` (`code`,
`location`, `accounts-server`, `state`).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from zbsn.core.zoho.errors import ZohoConsentError
from zbsn.core.zoho.oauth import ConsentRedirect, parse_redirect

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>zbsn</title></head>"
    "<body><p>{message}</p></body></html>"
)


class RedirectCatcher:
    """Listen on 127.0.0.1 (a free port unless given) for one GET to `path` carrying the consent redirect."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, path: str = "/callback") -> None:
        self.host = host
        self.port = port
        self.path = path
        self._server: asyncio.Server | None = None
        self._params: asyncio.Future[dict[str, str]] | None = None

    @property
    def redirect_uri(self) -> str:
        """The URI to register with Zoho and pass to the consent URL (valid after `start()`)."""
        if self._server is None:
            raise RuntimeError("start the catcher first")
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> str:
        """Bind the listener; returns the redirect URI."""
        self._params = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.redirect_uri

    async def wait(self, expected_state: str | None, timeout_s: float = 300.0) -> ConsentRedirect:
        """The redirect's parameters, its `state` verified; `TimeoutError` if none arrives in time."""
        if self._params is None:
            raise RuntimeError("start the catcher first")
        async with asyncio.timeout(timeout_s):
            params = await asyncio.shield(self._params)
        return parse_redirect(params, expected_state)

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> RedirectCatcher:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request_line.split(" ")
            target = urlsplit(parts[1]) if len(parts) >= 2 else None
            if parts[0] != "GET" or target is None or target.path != self.path:
                await self._respond(writer, 404, "Not the zbsn consent callback.")
                return
            params = {key: values[0] for key, values in parse_qs(target.query).items()}
            if "code" not in params and "error" not in params:
                await self._respond(writer, 400, "No authorisation code in this request.")
                return
            if self._params is not None and not self._params.done():
                self._params.set_result(params)
            ok = "code" in params
            await self._respond(
                writer, 200, "zbsn is authorised: you can close this tab." if ok else "Consent was refused."
            )
        except (TimeoutError, ConnectionError, ZohoConsentError):
            writer.close()

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, message: str) -> None:
        body = _PAGE.format(message=message).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()
