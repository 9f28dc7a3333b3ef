"""asyncio primitives per event loop, for an object that several loops may use in turn or at once.

An `asyncio.Lock` or `Event` binds to the first loop that waits on it; an org budget first used by a preview
in a helper thread's loop and then by a run on the core loop failed with "bound to a different event loop".
`LoopLocal` gives each running loop its own admission lock and change event, and `notify` wakes the waiters
of every loop (other loops through `call_soon_threadsafe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref


class _Primitives:
    __slots__ = ("admission", "changed")

    def __init__(self) -> None:
        self.admission = asyncio.Lock()
        self.changed = asyncio.Event()

    def renew(self) -> None:
        """Wake whoever waits on the current event; later waiters wait on a fresh one."""
        self.changed.set()
        self.changed = asyncio.Event()


class LoopLocal:
    """One admission lock and one change event per running event loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Primitives] = (
            weakref.WeakKeyDictionary()
        )
        self._guard = threading.Lock()

    def get(self) -> _Primitives:
        """The running loop's primitives (made on its first use)."""
        loop = asyncio.get_running_loop()
        with self._guard:
            primitives = self._by_loop.get(loop)
            if primitives is None:
                primitives = self._by_loop[loop] = _Primitives()
            return primitives

    def notify(self) -> None:
        """Wake the change waiters of every loop that used this object."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        with self._guard:
            items = list(self._by_loop.items())
        for loop, primitives in items:
            if loop is current:
                primitives.renew()
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # closed between the check and the call
                    loop.call_soon_threadsafe(primitives.renew)
