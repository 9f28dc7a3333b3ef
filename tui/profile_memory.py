"""Which sync profile the console last worked on, per database, so a restart opens the same one.

A small JSON file in the user's data dir (`console-profiles.json`), keyed by a hash of the database URL
(never the URL itself: it may carry a password). Losing the file only means starting on the first profile.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from zbsn.core.paths import data_dir

FILE_NAME = "console-profiles.json"


@dataclass(frozen=True, slots=True)
class ProfileMemory:
    """The last profile of one database."""

    path: Path
    key: str

    @classmethod
    def for_database(cls, database_key: str, folder: Path | None = None) -> ProfileMemory:
        """The memory of one database's last profile (`Services.database_key`), in `folder` (default: the
        data dir)."""
        return cls((folder or data_dir()) / FILE_NAME, database_key)

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}

    def recall(self) -> int | None:
        """The profile id last chosen on this database, if any."""
        return self._read().get(self.key)

    def remember(self, profile_id: int) -> None:
        """Store `profile_id` as this database's last profile (owner-only file; failures are ignored)."""
        data = self._read()
        data[self.key] = profile_id
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.chmod(temporary, 0o600)
            temporary.replace(self.path)
