"""Sampling-loop payloads: a strategy's sample → validate → repair loop.

`sampling_id` (= `call_id` of start and end) identifies one loop. Each attempt is a
scope of kind `"attempt"` (id `"<sampling_id>.<n>"`, `attempt` = n, 1-based) whose
generations and validations have it as `parent`; `sampling_iteration` reports on it
(its `call_id` is the attempt's id).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload

__all__ = [
    "SamplingIterationPayload",
    "SamplingLoopEndPayload",
    "SamplingLoopStartPayload",
    "SamplingRepairPayload",
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
