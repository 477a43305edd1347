"""Hook points as data: where mellea's execution can be observed, and what is reported.

This package is the bottom half of the plugin system. It knows no plugin: it names the
hook points (`HookType`), defines each point's payload (one module per category:
`session`, `component`, `generation`, `validation`, `sampling`, `tool`, `streaming`,
`adapter_function`), tracks which operation a payload belongs to (`CallScope`), and
offers the one dispatch entry the library's call sites use. The mechanism — registry,
execution modes, priorities, write policies — is `mellea.plugins`, which installs itself
here when the first plugin is registered.

Free when unused: with no plugin registered `active` is an empty frozenset, so a call
site costs one truthiness check::

    if hooks.active:
        options = await hooks.generation.pre_call(...)

Payload modules (and pydantic) are imported only once a hook point is active.

Observers (`mellea.telemetry`) may also install two things beyond the payloads
(`observe`): what the body of a reported operation runs inside (`running(call_id)`: the
operation's span made the current OpenTelemetry span, so user code it runs — a tool, a
validation function — nests under it) and what an outgoing HTTP request carries
(`outbound_headers`: the W3C trace context). Both are None, and cost nothing, unobserved.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from ._scope import (
    CallScope,
    current_scope,
    enter_scope,
    leave_scope,
    new_id,
    scope,
    use_scope,
)

if TYPE_CHECKING:
    from . import (
        adapter_function,
        component,
        generation,
        sampling,
        session,
        streaming,
        tool,
        validation,
    )
    from ._base import MelleaBasePayload


class HookType(enum.StrEnum):
    """Every hook point, by category (its payload class is in `mellea.plugins.hooks`)."""

    SESSION_PRE_INIT = "session_pre_init"
    SESSION_POST_INIT = "session_post_init"
    SESSION_RESET = "session_reset"
    SESSION_CLEANUP = "session_cleanup"
    COMPONENT_PRE_EXECUTE = "component_pre_execute"
    COMPONENT_POST_SUCCESS = "component_post_success"
    COMPONENT_POST_ERROR = "component_post_error"
    GENERATION_PRE_CALL = "generation_pre_call"
    GENERATION_POST_CALL = "generation_post_call"
    GENERATION_ERROR = "generation_error"
    GENERATION_BATCH_PRE_CALL = "generation_batch_pre_call"
    GENERATION_BATCH_POST_CALL = "generation_batch_post_call"
    GENERATION_BATCH_ERROR = "generation_batch_error"
    GENERATION_EVENT = "generation_event"
    VALIDATION_PRE_CHECK = "validation_pre_check"
    VALIDATION_POST_CHECK = "validation_post_check"
    SAMPLING_LOOP_START = "sampling_loop_start"
    SAMPLING_ITERATION = "sampling_iteration"
    SAMPLING_REPAIR = "sampling_repair"
    SAMPLING_LOOP_END = "sampling_loop_end"
    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"
    ADAPTER_FUNCTION_INVOCATION_COMPLETE = "adapter_function_invocation_complete"
    ADAPTER_FUNCTION_PHASE_COMPLETE = "adapter_function_phase_complete"
    STREAMING_START = "streaming_start"
    STREAMING_EVENT = "streaming_event"
    STREAMING_END = "streaming_end"


P = TypeVar("P", bound="MelleaBasePayload")
Runner = Callable[[str, Any, dict[str, Any]], Awaitable[Any]]
"""`runner(hook_type, payload, context) -> payload`: what `mellea.plugins` installs."""

active: frozenset[str] = frozenset()
"""The hook points with at least one registered hook (empty: no plugin at all)."""

_runner: Runner | None = None

background: set[Any] = set()
"""Hook work still running after the operation that fired it returned (a lazy call's
post-execution hooks waiting for its thunk, an error report for a cancelled request):
`concurrent.futures.Future`s or `asyncio.Task`s, removed when done."""


def track(work: Any) -> None:
    """Keep `work` (a future or task) in `background` until it is done."""
    background.add(work)
    work.add_done_callback(background.discard)


def install(runner: Runner | None, points: frozenset[str]) -> None:
    """Set the runner and the active hook points (called by `mellea.plugins` only)."""
    global _runner, active
    _runner = runner if points else None
    active = points if runner is not None else frozenset()


OperationContext = Callable[[str], contextlib.AbstractContextManager[object]]
"""`factory(call_id)`: the context manager the body of operation `call_id` runs inside."""
HeaderInjector = Callable[[dict[str, str]], None]
"""`inject(headers)`: adds what the request being sent here should carry, in place."""

_operation_context: OperationContext | None = None
_UNOBSERVED: contextlib.AbstractContextManager[object] = contextlib.nullcontext()

outbound_headers: HeaderInjector | None = None
"""What observers add to each outgoing HTTP request's headers (None: nothing). The HTTP
layer calls it in the request's own task, so it sees that request's context."""


def observe(operation_context: OperationContext | None, headers: HeaderInjector | None) -> None:
    """Install (or, with None, remove) an observer's operation context and header
    injector (called by `mellea.telemetry` only)."""
    global _operation_context, outbound_headers
    _operation_context = operation_context
    outbound_headers = headers


def running(call_id: str) -> contextlib.AbstractContextManager[object]:
    """What the body of operation `call_id` runs inside: the observer's context (e.g. the
    operation's span as the current OpenTelemetry span), a no-op without one. Use it as
    a `with` block around the body, in the task that runs it: tasks and worker threads
    the body starts copy that context."""
    factory = _operation_context
    return factory(call_id) if factory is not None else _UNOBSERVED


def on(hook_type: str) -> bool:
    """True if some hook is registered on `hook_type`."""
    return hook_type in active


async def dispatch(hook_type: str, payload: P, **context: Any) -> P:
    """Run the hooks registered on `hook_type`; returns the payload they leave.

    With no hook there it returns `payload` unchanged. A hook that blocks raises
    `PluginViolationError` (`mellea.core.errors`); nothing else a hook does raises here.
    `context` becomes the hooks' read-only `ctx` (e.g. `backend=`).
    """
    runner = _runner
    if runner is None or hook_type not in active:
        return payload
    result: P = await runner(str(hook_type), payload, context)
    return result


_CATEGORIES = frozenset(
    {
        "adapter_function",
        "component",
        "generation",
        "sampling",
        "session",
        "streaming",
        "tool",
        "validation",
    }
)


def __getattr__(name: str) -> ModuleType:
    # Payload modules load on first use: pydantic and the payload classes are not part of
    # `import mellea`, and a call site reaches them only once a hook is active.
    if name in _CATEGORIES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CallScope",
    "HeaderInjector",
    "HookType",
    "OperationContext",
    "Runner",
    "active",
    "current_scope",
    "dispatch",
    "enter_scope",
    "install",
    "leave_scope",
    "new_id",
    "observe",
    "on",
    "outbound_headers",
    "running",
    "scope",
    "track",
    "use_scope",
]
