"""Log every model request and its answer (prompt, model, latency, tokens, repair notes)."""

from __future__ import annotations

import logging

from ...core.hooks.generation import GenerationPostCallPayload, GenerationPreCallPayload
from ..context import PluginContext
from ..decorators import hook
from ..types import HookType
from ._text import preview, prompt_text, short_id

__all__ = ["log_generation_post_call", "log_generation_pre_call"]

logger = logging.getLogger(__name__)


@hook(HookType.GENERATION_PRE_CALL)
async def log_generation_pre_call(payload: GenerationPreCallPayload, ctx: PluginContext) -> None:
    """Log the request about to be sent: model and a preview of the prompt.

    When the action carries repair feedback (a repaired instruction), log that too.
    """
    logger.info(
        "[GEN-PRE-CALL gen_id=%s] model=%s | prompt=%s",
        short_id(payload.generation_id), payload.model, preview(prompt_text(payload.action)),
    )  # fmt: skip
    repair = getattr(payload.action, "repair_string", None)
    if repair:
        logger.info("   [REPAIR ATTEMPT] repair feedback provided: %s", preview(repair, 200))
    if payload.model_options:
        logger.debug("   model_options=%r", payload.model_options)


@hook(HookType.GENERATION_POST_CALL)
async def log_generation_post_call(payload: GenerationPostCallPayload, ctx: PluginContext) -> None:
    """Log the answer: latency, token counts and a preview of the text."""
    output = payload.model_output
    if output is None:
        return
    usage = output.generation.usage or {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    tokens = f"({prompt}+{completion}={usage.get('total_tokens')})" if usage else "(unknown)"
    logger.info(
        "[GEN-POST-CALL gen_id=%s] model=%s | latency=%.0fms | tokens=%s | response=%s",
        short_id(payload.generation_id), payload.model, payload.latency_ms, tokens,
        preview(output.value),
    )  # fmt: skip
    generation = output.generation
    logger.debug(
        "   finish_reasons=%s response_id=%s ttfb_ms=%s",
        generation.finish_reasons, generation.response_id, generation.ttfb_ms,
    )  # fmt: skip
