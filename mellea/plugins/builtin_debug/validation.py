"""Log requirement checks: what is checked, and each requirement's verdict."""

from __future__ import annotations

import logging

from ...core.hooks.validation import ValidationPostCheckPayload, ValidationPreCheckPayload
from ..context import PluginContext
from ..decorators import hook
from ..types import HookType
from ._text import preview, requirement_name

__all__ = ["log_validation_post_check", "log_validation_pre_check"]

logger = logging.getLogger(__name__)


@hook(HookType.VALIDATION_PRE_CHECK)
async def log_validation_pre_check(payload: ValidationPreCheckPayload, ctx: PluginContext) -> None:
    """Log how many requirements are about to be checked, and on what."""
    logger.info(
        "[VALIDATION-PRE-CHECK] requirements=%d | target=%s",
        len(payload.requirements), type(payload.target).__name__,
    )  # fmt: skip
    for requirement in payload.requirements:
        logger.debug("    - %s", preview(requirement_name(requirement)))


@hook(HookType.VALIDATION_POST_CHECK)
async def log_validation_post_check(
    payload: ValidationPostCheckPayload, ctx: PluginContext
) -> None:
    """Log the verdicts: a summary line, then each failure (and, at DEBUG, each pass)."""
    total = len(payload.results)
    if payload.exception is not None:
        logger.info("[VALIDATION-POST-CHECK] ERROR: %s", payload.exception)
        return
    if payload.all_validations_passed:
        logger.info("[VALIDATION-POST-CHECK] ALL PASSED: %d/%d requirements", total, total)
    else:
        logger.info(
            "[VALIDATION-POST-CHECK] MIXED RESULTS: %d/%d passed, %d/%d failed",
            payload.passed_count, total, payload.failed_count, total,
        )  # fmt: skip
    for requirement, result in zip(payload.requirements, payload.results, strict=False):
        name = preview(requirement_name(requirement))
        if bool(result):
            logger.debug("    ✓ %s", name)
        else:
            reason = getattr(result, "reason", None)
            logger.info("    ✗ %s%s", name, f"\n       └─ {preview(reason, 200)}" if reason else "")
