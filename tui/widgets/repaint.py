"""Cheap updates for widgets that change while a run streams: repaint only when the text really changed.

`Static.update()` re-lays-out the whole screen by default (its size may have changed). The run view's live
texts sit in boxes of fixed size (set in CSS), so they repaint in place: `layout=False`, and nothing at all
when the text is the one already shown.
"""

from __future__ import annotations

from textual.widgets import Static


def set_text(widget: Static, text: str, *, layout: bool = False) -> bool:
    """Show `text` in `widget` unless it already shows it; True when it changed."""
    if widget.content == text:
        return False
    widget.update(text, layout=layout)
    return True
