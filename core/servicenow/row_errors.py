"""The readable reason of a failed import set row: never a sys_id.

On an instance, `sys_import_set_row.sys_row_error` is a reference to a `sys_import_set_row_error` record, not
text (issue 15): read raw it is a sys_id. The reason a person can act on is that reference's display value, or
the row's `sys_import_state_comment`. Older instances and simpler fakes put the text itself in
`sys_row_error`; such text is used as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
NO_REASON = "the instance gave no reason for this row's error"


def is_sys_id(text: str) -> bool:
    """Whether `text` is a bare sys_id (32 lowercase hex characters)."""
    return bool(_SYS_ID.match(text))


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value", "")
    return "" if value is None else str(value).strip()


def readable_reason(record: Mapping[str, Any]) -> str | None:
    """The reason of a row read with plain values: `sys_row_error` when it is text, else the comment."""
    error = _text(record.get("sys_row_error"))
    if error and not is_sys_id(error):
        return error
    return _text(record.get("sys_import_state_comment")) or None


def needs_display_value(record: Mapping[str, Any]) -> bool:
    """Whether the reason must come from `sys_row_error`'s display value (a reference and no comment)."""
    return readable_reason(record) is None and is_sys_id(_text(record.get("sys_row_error")))


def display_reason(record: Mapping[str, Any]) -> str | None:
    """The reason from a row read with `sysparm_display_value=all`: `sys_row_error`'s display value."""
    value = record.get("sys_row_error")
    shown = value.get("display_value") if isinstance(value, dict) else None
    text = "" if shown is None else str(shown).strip()
    return text if text and not is_sys_id(text) else None
