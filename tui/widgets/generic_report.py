"""Render a core result object (dataclass, pydantic model, mapping or list) as readable Rich tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def as_mapping(value: Any) -> Mapping[str, Any] | None:
    """The object's fields as a mapping, or None when it is a plain value."""
    if isinstance(value, Mapping):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        result = dump()
        return result if isinstance(result, Mapping) else None
    return None


def humanize(name: str) -> str:
    return name.replace("_", " ").capitalize()


def scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _rows_table(items: list[Any]) -> RenderableType:
    mappings = [as_mapping(item) for item in items]
    if not items or any(m is None for m in mappings):
        return Text("\n".join(scalar(i) for i in items) or "— none —")
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    columns = list(mappings[0] or {})
    for column in columns:
        table.add_column(humanize(column))
    for mapping in mappings:
        assert mapping is not None
        table.add_row(*(scalar(mapping.get(c)) for c in columns))
    return table


def render_report(value: Any) -> RenderableType:
    """Key/value grid for scalars, then one table per list field."""
    mapping = as_mapping(value)
    if mapping is None:
        return Text(scalar(value))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    sections: list[RenderableType] = [grid]
    for key, item in mapping.items():
        if isinstance(item, list | tuple):
            sections += [
                Text(f"\n{humanize(key)} ({len(item)})", style="bold underline"),
                _rows_table(list(item)),
            ]
        elif as_mapping(item) is not None:
            sections += [Text(f"\n{humanize(key)}", style="bold underline"), render_report(item)]
        else:
            grid.add_row(humanize(key), scalar(item))
    return Group(*sections)
