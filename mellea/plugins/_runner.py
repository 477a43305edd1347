"""Running the hooks of one hook point: modes, priorities, write policies, results.

`run_hooks` is what `mellea.plugins` installs into `mellea.core.hooks` (the library's
call sites reach it through `hooks.dispatch`). Hooks run grouped by mode —
SEQUENTIAL, TRANSFORM, AUDIT, CONCURRENT, then FIRE_AND_FORGET — each group by priority
(lower first), then by registration order. SEQUENTIAL, TRANSFORM and AUDIT hooks are
awaited in the caller's task, so they see its context variables (and may set ones the
caller reads back, e.g. an OpenTelemetry context). CONCURRENT hooks run as tasks that
copy that context; FIRE_AND_FORGET hooks run on mellea's I/O loop, also with a copy.

A hook's exception, or a hook still running after `HOOK_TIMEOUT_S`, is logged on the
`mellea.plugins` logger and the operation goes on as if the hook had returned None.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine, Generator
from typing import Any

from .._runtime.portal import get_portal
from ..core import hooks as core_hooks
from ..core.errors import PluginViolationError
from . import _table
from .context import build_global_context
from .policies import writable_fields
from .results import PluginResult
from .types import PluginMode

__all__ = ["HOOK_TIMEOUT_S", "drain_background", "pending_background", "run_hooks"]

logger = logging.getLogger("mellea.plugins")

HOOK_TIMEOUT_S = 5.0
"""How long one hook may run before it is abandoned (logged, treated as returning None)."""

_background: set[concurrent.futures.Future[Any]] = set()
_background_lock = threading.Lock()
_collect: list[PluginResult[Any]] | None = None  # see manager.enable_background_collection


async def run_hooks(hook_type: str, payload: Any, context: dict[str, Any]) -> Any:
    """Run every hook on `hook_type` for `payload`; returns the payload they leave.

    Raises `PluginViolationError` when a SEQUENTIAL or CONCURRENT hook blocks.
    """
    session_id = payload.session_id
    selected = [
        e for e in _table.entries(hook_type) if e.session_id is None or e.session_id == session_id
    ]
    if not selected:
        return payload
    ctx = build_global_context(
        hook_type=hook_type, session_id=session_id, request_id=payload.request_id, **context
    )
    current = payload
    concurrent_group: list[_table.Entry] = []
    background: list[_table.Entry] = []
    for entry in selected:
        mode = entry.mode
        if mode is PluginMode.CONCURRENT:
            concurrent_group.append(entry)
            continue
        if mode is PluginMode.FIRE_AND_FORGET:
            background.append(entry)
            continue
        result = await _call(entry, current, ctx)
        if result is None:
            continue
        if not result.continue_processing:
            if mode is PluginMode.SEQUENTIAL:
                raise _violation(hook_type, entry, result)
            logger.warning(
                "%s hook %r on %s tried to block (%s); %s hooks cannot block, ignored",
                mode.value, entry.plugin_name, hook_type, _reason(result), mode.value,
            )  # fmt: skip
        if result.modified_payload is not None:
            if mode is PluginMode.AUDIT:
                logger.debug("audit hook %r proposed a change; discarded", entry.plugin_name)
            else:
                current = _apply(hook_type, entry, current, result.modified_payload)
    if concurrent_group:
        await _run_concurrently(hook_type, concurrent_group, current, ctx)
    if background:
        _start_background(background, current, ctx)
    return current


async def _call(entry: _table.Entry, payload: Any, ctx: Any) -> PluginResult[Any] | None:
    try:
        coro = entry.fn(payload, ctx)
        try:  # most hooks finish without ever waiting: those need no timer
            pending = coro.send(None)
        except StopIteration as finished:
            result = finished.value
        else:
            async with asyncio.timeout(HOOK_TIMEOUT_S):
                result = await _Resumed(coro, pending)
    except TimeoutError:
        logger.warning(
            "hook %r on %s ran longer than %s s; abandoned",
            entry.plugin_name, entry.hook_type, HOOK_TIMEOUT_S,
        )  # fmt: skip
        return None
    except Exception:
        logger.warning(
            "hook %r on %s raised; ignored", entry.plugin_name, entry.hook_type, exc_info=True
        )
        return None
    if result is None or isinstance(result, PluginResult):
        return result
    logger.warning(
        "hook %r on %s returned %s, not None or a PluginResult; ignored",
        entry.plugin_name, entry.hook_type, type(result).__name__,
    )  # fmt: skip
    return None


class _Resumed:
    """Awaits the rest of a coroutine already stepped once (`pending`: what it yielded),
    exactly as `await coro` would have from the start."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro, self._pending = coro, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._pending
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation (a timeout) goes into the hook
                try:
                    value = coro.throw(exc)
                except StopIteration as finished:
                    return finished.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as finished:
                    return finished.value


def _reason(result: PluginResult[Any]) -> str:
    return result.violation.reason if result.violation is not None else "no reason given"


def _violation(
    hook_type: str, entry: _table.Entry, result: PluginResult[Any]
) -> PluginViolationError:
    violation = result.violation
    if violation is not None:
        violation.plugin_name = violation.plugin_name or entry.plugin_name
    reason = _reason(result)
    code = violation.code if violation is not None else ""
    logger.warning("%s blocked by %r: [%s] %s", hook_type, entry.plugin_name, code, reason)
    return PluginViolationError(
        hook_type, reason, code, entry.plugin_name,
        details=violation.details if violation is not None else None,
    )  # fmt: skip


def _apply(hook_type: str, entry: _table.Entry, current: Any, proposed: Any) -> Any:
    """`current` with the writable fields `proposed` changed (the rest is discarded)."""
    if type(proposed) is not type(current):
        logger.warning(
            "hook %r on %s returned a %s, not a %s; ignored",
            entry.plugin_name, hook_type, type(proposed).__name__, type(current).__name__,
        )  # fmt: skip
        return current
    writable = writable_fields(hook_type)
    updates: dict[str, Any] = {}
    for name in type(current).model_fields:
        new = getattr(proposed, name)
        if new is getattr(current, name):
            continue
        if name in writable:
            updates[name] = new
        elif new != getattr(current, name):
            logger.debug(
                "hook %r changed %s.%s, which is not writable; discarded",
                entry.plugin_name, hook_type, name,
            )  # fmt: skip
    return current.model_copy(update=updates) if updates else current


async def _run_concurrently(
    hook_type: str, group: list[_table.Entry], payload: Any, ctx: Any
) -> None:
    tasks = {asyncio.ensure_future(_call(e, payload, ctx)): e for e in group}
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # Several may finish together: the highest-priority blocker is the one named.
            for task in sorted(done, key=lambda t: tasks[t].sort_key):
                result = task.result()
                if result is None:
                    continue
                if not result.continue_processing:
                    raise _violation(hook_type, tasks[task], result)
                if result.modified_payload is not None:
                    logger.debug(
                        "concurrent hook %r proposed a change; discarded", tasks[task].plugin_name
                    )
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()


def _start_background(group: list[_table.Entry], payload: Any, ctx: Any) -> None:
    snapshot = payload.model_copy()
    loop = get_portal().loop
    futures = []
    for entry in group:
        future = asyncio.run_coroutine_threadsafe(_quietly(entry, snapshot, ctx), loop)
        with _background_lock:
            _background.add(future)
        future.add_done_callback(_forget)
        futures.append(future)
    if _collect is not None:
        _collect.append(PluginResult(background_tasks=futures))


def _forget(future: concurrent.futures.Future[Any]) -> None:
    with _background_lock:
        _background.discard(future)


async def _quietly(entry: _table.Entry, payload: Any, ctx: Any) -> BaseException | None:
    """A fire-and-forget hook: returns the error it logged instead of raising it."""
    try:
        async with asyncio.timeout(HOOK_TIMEOUT_S):
            result = await entry.fn(payload, ctx)
    except Exception as exc:
        logger.warning(
            "fire-and-forget hook %r on %s failed; ignored",
            entry.plugin_name, entry.hook_type, exc_info=True,
        )  # fmt: skip
        return exc
    if isinstance(result, PluginResult) and (
        not result.continue_processing or result.modified_payload is not None
    ):
        logger.debug("fire-and-forget hook %r cannot block or modify; ignored", entry.plugin_name)
    return None


def pending_background() -> list[concurrent.futures.Future[Any]]:
    """The fire-and-forget hooks still running."""
    with _background_lock:
        return list(_background)


async def drain_background() -> None:
    """Wait until every fire-and-forget hook started so far has finished (and the hooks
    of lazy calls waiting for their thunks: `mellea.core.hooks.background`)."""
    while True:
        pending = [f for f in pending_background() if not f.done()]
        pending += [f for f in list(core_hooks.background) if not f.done()]
        if not pending:
            return
        await asyncio.wait([_awaitable(f) for f in pending])


def _awaitable(work: Any) -> Any:
    if isinstance(work, concurrent.futures.Future):
        return asyncio.wrap_future(work)
    return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_wait_task(work), work.get_loop()))


async def _wait_task(task: asyncio.Task[Any]) -> None:
    await asyncio.wait([task])
