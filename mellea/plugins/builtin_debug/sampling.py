"""Log a sampling loop: its start, each attempt's verdict, repairs, and the outcome."""

from __future__ import annotations

import logging
from typing import Any

from ...core.hooks.sampling import (
    SamplingIterationPayload,
    SamplingLoopEndPayload,
    SamplingLoopStartPayload,
    SamplingRepairPayload,
)
from ..context import PluginContext
from ..decorators import hook
from ..types import HookType
from ._text import preview, requirement_name

__all__ = [
    "log_sampling_iteration",
    "log_sampling_loop_end",
    "log_sampling_loop_start",
    "log_sampling_repair",
]

logger = logging.getLogger(__name__)


def _failed(validations: list[tuple[Any, Any]]) -> list[str]:
    return [preview(requirement_name(r)) for r, v in validations if not bool(v)]


@hook(HookType.SAMPLING_LOOP_START)
async def log_sampling_loop_start(payload: SamplingLoopStartPayload, ctx: PluginContext) -> None:
    """Log the strategy, its attempt budget and how many requirements it checks."""
    logger.info(
        "[SAMPLING-START] strategy=%s | loop_budget=%d | requirements=%d",
        payload.strategy_name, payload.loop_budget, len(payload.requirements),
    )  # fmt: skip


@hook(HookType.SAMPLING_ITERATION)
async def log_sampling_iteration(payload: SamplingIterationPayload, ctx: PluginContext) -> None:
    """Log one attempt's verdict and the requirements it failed."""
    verdict = "SUCCESS" if payload.all_validations_passed else "FAILED"
    logger.info(
        "[SAMPLING-ITER %d] %s: %d/%d validations passed",
        payload.iteration, verdict, payload.valid_count, payload.total_count,
    )  # fmt: skip
    for name in _failed(payload.validation_results):
        logger.info("    ✗ %s", name)


@hook(HookType.SAMPLING_REPAIR)
async def log_sampling_repair(payload: SamplingRepairPayload, ctx: PluginContext) -> None:
    """Log a repair: after which attempt, of which kind, for which failures."""
    logger.info(
        "[REPAIR-TRIGGERED] at iteration %d | repair_type=%s",
        payload.repair_iteration, payload.repair_type,
    )  # fmt: skip
    for name in _failed(payload.failed_validations):
        logger.info("    • %s", name)


@hook(HookType.SAMPLING_LOOP_END)
async def log_sampling_loop_end(payload: SamplingLoopEndPayload, ctx: PluginContext) -> None:
    """Log the outcome: success or why not, attempts used, the best attempt's score."""
    if payload.success:
        logger.info(
            "[SAMPLING-END] SUCCESS in %d iteration(s) using %s",
            payload.iterations_used, payload.strategy_name,
        )  # fmt: skip
    else:
        logger.info(
            "[SAMPLING-END] %s after %d iteration(s) using %s: %s",
            "ERROR" if payload.exception is not None else "FAILED",
            payload.iterations_used, payload.strategy_name, payload.failure_reason,
        )  # fmt: skip
    if payload.all_validations:
        best = max(sum(1 for _, v in vals if bool(v)) for vals in payload.all_validations)
        total = max(len(vals) for vals in payload.all_validations)
        logger.info("   total_attempts=%d | best_validation_score=%d/%d",
                    len(payload.all_results), best, total)  # fmt: skip
