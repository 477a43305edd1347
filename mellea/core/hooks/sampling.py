"""Sampling-loop payloads: a strategy's sample → validate → repair loop.

`sampling_id` (= `call_id` of start and end) identifies one loop. Each attempt is a
scope of kind `"attempt"` (id `"<sampling_id>.<n>"`, `attempt` = n, 1-based) whose
generations and validations have it as `parent`; `sampling_iteration` reports on it
(its `call_id` is the attempt's id).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from ..errors import InvalidOptionError, MelleaError
from ._base import MelleaBasePayload, fields_for, fields_here
from ._scope import CallScope, current_scope, enter_scope, leave_scope, new_id, scope

__all__ = [
    "SamplingIterationPayload",
    "SamplingLoopEndPayload",
    "SamplingLoopStartPayload",
    "SamplingRepairPayload",
    "around",
    "attempt_scope",
    "iteration",
    "repair",
]


class SamplingLoopStartPayload(MelleaBasePayload):
    """`sampling_loop_start`: a strategy begins (`loop_budget` is writable).

    `strategy_name` — the strategy's class name; `action`, `context`, `requirements`.
    """

    sampling_id: str = ""
    strategy_name: str = ""
    action: Any = None
    context: Any = None
    requirements: list[Any] = Field(default_factory=list)
    loop_budget: int = 0


class SamplingIterationPayload(MelleaBasePayload):
    """`sampling_iteration`: one attempt was generated and validated.

    `iteration` — 1-based; `result` — the attempt's thunk; `validation_results` —
    (requirement, result) pairs; `valid_count` of `total_count` passed;
    `latency_ms` — from the attempt's start to the end of its validation.
    """

    sampling_id: str = ""
    strategy_name: str = ""
    iteration: int = 0
    action: Any = None
    result: Any = None
    validation_results: list[tuple[Any, Any]] = Field(default_factory=list)
    all_validations_passed: bool = False
    valid_count: int = 0
    total_count: int = 0
    latency_ms: float = 0.0


class SamplingRepairPayload(MelleaBasePayload):
    """`sampling_repair`: an attempt failed and the strategy built the next one.

    `repair_type` — `"template"` (RepairTemplateStrategy), `"multi_turn"`, `"rejection"`
    (same action again) or the strategy's class name; `failed_*` — the failed attempt;
    `repair_action` / `repair_context` — what the next attempt sends;
    `repair_iteration` — the failed attempt's 1-based index.
    """

    sampling_id: str = ""
    repair_type: str = ""
    failed_action: Any = None
    failed_result: Any = None
    failed_validations: list[tuple[Any, Any]] = Field(default_factory=list)
    repair_action: Any = None
    repair_context: Any = None
    repair_iteration: int = 0


class SamplingLoopEndPayload(MelleaBasePayload):
    """`sampling_loop_end`: the loop finished — passed, gave up, or failed.

    `success`; `iterations_used`; `final_result` / `final_action` / `final_context` — the
    selected attempt; `failure_reason` — why no attempt passed or the loop failed;
    `exception` — the error the loop ended with (None if it returned); `all_results`,
    `all_validations` — every validated attempt; `usage` — tokens of every request.
    """

    sampling_id: str = ""
    strategy_name: str = ""
    success: bool = False
    iterations_used: int = 0
    final_result: Any = None
    final_action: Any = None
    final_context: Any = None
    failure_reason: str | None = None
    exception: BaseException | None = None
    all_results: list[Any] = Field(default_factory=list)
    all_validations: list[list[tuple[Any, Any]]] = Field(default_factory=list)
    usage: dict[str, int] | None = None


# ----- firing (called by sampling code while a plugin is registered) ----------------------

START, ITERATION, REPAIR, END = (
    "sampling_loop_start", "sampling_iteration", "sampling_repair", "sampling_loop_end"
)  # fmt: skip
_REPAIR_TYPES = {
    "RepairTemplateStrategy": "template",
    "MultiTurnStrategy": "multi_turn",
    "RejectionSamplingStrategy": "rejection",
}


async def around(
    loop: Callable[..., Awaitable[None]],
    outer: Any,
    strategy: Any,
    run: Any,
    action: Any,
    context: Any,
    requirements: list[Any],
) -> None:
    """Run a sampling loop (`loop(outer, strategy, run, action, context, requirements)`,
    which settles `outer`) inside its hook points, in a `"sampling"` scope.

    `sampling_loop_start` may change `loop_budget` (the loop then runs a copy of the
    strategy). `sampling_loop_end` sees the outcome before readers of `outer` wake.
    """
    from .. import hooks

    name = type(strategy).__name__
    own, token = enter_scope("sampling", label=name)
    try:
        if hooks.on(START):
            budget = getattr(strategy, "loop_budget", 1)
            start = await hooks.dispatch(
                START,
                SamplingLoopStartPayload(
                    **fields_for(own, START),
                    sampling_id=own.id,
                    strategy_name=name,
                    action=action,
                    context=context,
                    requirements=list(requirements),
                    loop_budget=budget,
                ),
                backend=run.backend,
            )
            if start.loop_budget != budget:
                if not isinstance(start.loop_budget, int) or start.loop_budget < 1:
                    raise InvalidOptionError(
                        f"a plugin set loop_budget={start.loop_budget!r}: it must be an int >= 1"
                    )
                strategy = copy.copy(strategy)
                strategy.loop_budget = start.loop_budget
        watch = hooks.on(END)
        if watch:
            outer._hold()
        try:
            with hooks.running(own.id):  # a strategy's own code runs under its span
                await loop(outer, strategy, run, action, context, requirements)
        finally:
            if watch:
                try:
                    await _end(hooks, own, name, outer, run)
                finally:
                    outer._release()
    finally:
        leave_scope(token)


async def _end(hooks: Any, own: CallScope, name: str, outer: Any, run: Any) -> None:
    result = outer.sampling_result
    error = outer.error
    success = bool(result is not None and result.success and error is None)
    index = result.result_index if result is not None else 0
    generations = list(result.sample_generations) if result is not None else []

    def pick(items: Any) -> Any:
        return (
            items[index]
            if result is not None and items and -len(items) <= index < len(items)
            else None
        )

    reason = None
    if error is not None:
        reason = f"{type(error).__name__}: {error}"
    elif not success:
        reason = "the token budget was spent" if run.budget_exhausted else (
            "no attempt passed every requirement"
        )  # fmt: skip
    payload = SamplingLoopEndPayload(
        **fields_for(own, END), sampling_id=own.id, strategy_name=name, success=success,
        iterations_used=len(run.validated) or len(run.started),
        final_result=pick(generations), final_action=pick(result.sample_actions if result else []),
        final_context=pick(result.sample_contexts if result else []), failure_reason=reason,
        exception=error, all_results=generations,
        all_validations=list(result.sample_validations) if result is not None else [],
        usage=run.usage(),
    )  # fmt: skip
    try:
        await hooks.dispatch(END, payload, backend=run.backend)
    except MelleaError:  # the loop has finished: a block changes nothing
        pass


def attempt_scope(index: int, label: str = "") -> contextlib.AbstractContextManager[CallScope]:
    """The scope of attempt `index` (1-based) of the current sampling loop."""
    current = current_scope()
    loop_scope = current.find("sampling") if current is not None else None
    prefix = loop_scope.id if loop_scope is not None else new_id()
    label = label or (loop_scope.label if loop_scope is not None else "")
    return scope("attempt", f"{prefix}.{index}", attempt=index, label=label)


async def iteration(own: CallScope, action: Any, mot: Any, validations: list[Any],
                    backend: Any) -> None:  # fmt: skip
    """Fire `sampling_iteration` for the attempt of scope `own` (validated)."""
    from .. import hooks

    if not hooks.on(ITERATION):
        return
    loop_scope = own.find("sampling")
    valid = sum(1 for _, v in validations if bool(v))
    payload = SamplingIterationPayload(
        **fields_for(own, ITERATION), sampling_id=loop_scope.id if loop_scope else "",
        strategy_name=own.label, iteration=own.attempt or 0, action=action, result=mot,
        validation_results=list(validations), all_validations_passed=valid == len(validations),
        valid_count=valid, total_count=len(validations),
        latency_ms=(time.time_ns() - own.started_ns) / 1e6,
    )  # fmt: skip
    await hooks.dispatch(ITERATION, payload, backend=backend)


async def repair(strategy: Any, failed: Any, repair_action: Any, repair_context: Any,
                 backend: Any) -> None:  # fmt: skip
    """Fire `sampling_repair`: attempt `failed` (an `Attempt`) failed; the next one sends
    `repair_action` in `repair_context`."""
    from .. import hooks

    if not hooks.on(REPAIR):
        return
    own = getattr(failed, "scope", None)
    current = current_scope()
    loop_scope = current.find("sampling") if current is not None else None
    base = fields_for(own, REPAIR) if own is not None else fields_here(new_id(), REPAIR)
    name = type(strategy).__name__
    payload = SamplingRepairPayload(
        **base, sampling_id=loop_scope.id if loop_scope else "",
        repair_type=_REPAIR_TYPES.get(name, name), failed_action=failed.action,
        failed_result=failed.mot, failed_validations=list(failed.validations or []),
        repair_action=repair_action, repair_context=repair_context,
        repair_iteration=own.attempt if own is not None and own.attempt else 0,
    )  # fmt: skip
    await hooks.dispatch(REPAIR, payload, backend=backend)
