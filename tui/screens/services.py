"""What the console needs from core, in one place: the `ConsoleContext` every screen receives.

Screens never build services; the app factory hands them over through `navigation.install(app, context)`.
Services from core may be sync or async: `call_core` awaits either without blocking the event loop (sync
calls go to a thread).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from zbsn.core.engine.events import EventBus

T = TypeVar("T")


@dataclass
class ConsoleContext:
    """The services the screens call. Any of them may be None until its owner's code is available."""

    db: sa.Engine | None = None
    profile_id: int | None = None
    workspace: Any = None  # zbsn.core.workspace.Workspace
    engine_service: Any = None  # zbsn.core.engine.EngineService
    schedules: Any = None  # zbsn.core.scheduling.ScheduleService
    webhook_receiver: Any = None  # zbsn.core.webhooks receiver state
    demo: Any = None  # zbsn.core.demo.DemoHandle when started with --demo
    bus: EventBus = field(default_factory=EventBus)
    export_dir: str | None = None


async def call_core(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a core function; async ones are awaited, sync ones run in a thread."""
    if inspect.iscoroutinefunction(function):
        return await function(*args, **kwargs)
    result = await asyncio.to_thread(function, *args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def describe_error(error: BaseException) -> str:
    """One line for the operator: the message, or the type when there is none."""
    text = str(error).strip()
    return text or type(error).__name__


def missing_service(name: str) -> str:
    """What to tell the operator when a service is not wired (e.g. no engine in this build)."""
    return f"{name} is not available in this console yet. Start with --demo or configure a profile."
