"""Processes as holders of a shared thing (a run's lock, a Zoho request in flight): `host:pid`."""

from __future__ import annotations

import os
import socket


def holder_id() -> str:
    """This process as a holder: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """True only when `holder` is a process of this host that no longer exists (another host's: unknown)."""
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
