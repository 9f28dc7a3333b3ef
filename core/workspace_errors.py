"""`WorkspaceError`: a problem the operator can fix (unknown profile, incomplete connection, …).

Its own module because every workspace service raises it and the CLI maps it to the usage exit code; the
message is written for the operator and never carries a secret.
"""

from __future__ import annotations


class WorkspaceError(Exception):
    """An operator-facing problem (unknown profile, incomplete connection, …)."""


__all__ = ["WorkspaceError"]
