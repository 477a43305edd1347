"""`think_budget_forcing`: think within a token budget, then answer within another.

Works on engines that expose reasoning (Ollama's `think`, OpenAI-compatible
`reasoning_content`): phase 1 asks with thinking on, at most `think_max_tokens`; if the
budget ran out before an answer, phase 2 hands the (cut) reasoning back — wrapped in
`start_think_token` / `end_think_token`, then `begin_response_token` — and asks for the
answer with thinking off, at most `answer_max_tokens`. Other engines raise
`InvalidOptionError` before any request. Returns the answer thunk (the reasoning is in
`generation.extra["thinking"]`) and the thinking thunk when phase 2 ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ....backends.model_options import ModelOption
from ....core.errors import InvalidOptionError
from ....core.message import Message

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ....core.backend import Backend
    from ....core.base import CBlock, Component
    from ....core.context import Context
    from ....core.thunk import ModelOutputThunk


def exposes_reasoning(backend: Backend) -> bool:
    """True for the engines with a thinking mode (Ollama, OpenAI-compatible, LiteLLM)."""
    names = {cls.__name__ for cls in type(backend).__mro__}
    return bool(names & {"OllamaModelBackend", "OpenAIBackend", "LiteLLMBackend"})


async def think_budget_forcing(
    backend: Backend,
    action: Component[Any] | CBlock,
    *,
    ctx: Context,
    format: type[BaseModel] | None = None,
    tool_calls: bool = False,
    think_max_tokens: int | None = 4096,
    answer_max_tokens: int | None = None,
    start_think_token: str | None = "<think>",
    end_think_token: str | None = "</think>",
    begin_response_token: str | None = "",
    think_more_suffix: str | None = "",
    answer_suffix: str | None = "",
    model_options: dict[str, Any] | None = None,
) -> ModelOutputThunk[Any]:
    """Phase 1 (and 2 when needed) as the module docstring says; returns the answer thunk."""
    answer, _thinking = await budget_forced(
        backend, action, ctx=ctx, format=format, tool_calls=tool_calls,
        think_max_tokens=think_max_tokens, answer_max_tokens=answer_max_tokens,
        start_think_token=start_think_token, end_think_token=end_think_token,
        begin_response_token=begin_response_token, think_more_suffix=think_more_suffix,
        answer_suffix=answer_suffix, model_options=model_options,
    )  # fmt: skip
    return answer


async def budget_forced(
    backend: Backend,
    action: Component[Any] | CBlock,
    *,
    ctx: Context,
    format: type[BaseModel] | None,
    tool_calls: bool,
    think_max_tokens: int | None,
    answer_max_tokens: int | None,
    start_think_token: str | None,
    end_think_token: str | None,
    begin_response_token: str | None,
    think_more_suffix: str | None,
    answer_suffix: str | None,
    model_options: dict[str, Any] | None,
) -> tuple[ModelOutputThunk[Any], ModelOutputThunk[Any] | None]:
    """(the answer thunk, the phase-1 thunk if a phase 2 was needed)."""
    if not exposes_reasoning(backend):
        raise InvalidOptionError(
            f"{type(backend).__name__} exposes no reasoning: budget forcing needs an engine "
            "with a thinking mode (Ollama, an OpenAI-compatible server, LiteLLM)"
        )
    options = dict(model_options or {})
    think = {**options, ModelOption.THINKING: True}
    if think_max_tokens is not None:
        think[ModelOption.MAX_NEW_TOKENS] = think_max_tokens
    first, _ = await backend.generate_from_context(
        action, ctx, format=format, model_options=think, tool_calls=tool_calls
    )
    await first.avalue()
    thinking = str(first.generation.extra.get("thinking", ""))
    cut = "length" in (first.generation.finish_reasons or []) or not (first.value or "").strip()
    if not cut:
        return first, None
    if think_more_suffix:
        thinking += think_more_suffix
    reasoning = (
        f"{start_think_token or ''}{thinking}{end_think_token or ''}{begin_response_token or ''}"
    )
    nudge = (answer_suffix or "").strip() or "Stop thinking now and give your final answer."
    from ...context import ChatContext, SimpleContext

    # The answer request must carry the request and the reasoning: a SimpleContext
    # sends no history, so phase 2 uses a chat of its own.
    base = ChatContext() if isinstance(ctx, SimpleContext) else ctx
    answer_ctx = base.add(action).add(Message("assistant", reasoning))
    answer_options = {**options, ModelOption.THINKING: False}
    if answer_max_tokens is not None:
        answer_options[ModelOption.MAX_NEW_TOKENS] = answer_max_tokens
    answer, _ = await backend.generate_from_context(
        Message("user", nudge), answer_ctx, format=format, model_options=answer_options,
        tool_calls=tool_calls,
    )  # fmt: skip
    await answer.avalue()
    answer.generation.extra.setdefault("thinking", thinking)
    return answer, first


__all__ = ["budget_forced", "exposes_reasoning", "think_budget_forcing"]
