"""`react()`: a goal-driven Reason + Act loop over tools.

Each step the model sees the goal and everything so far (its tool calls and their results)
and either calls tools or finishes: by calling the built-in `final_answer` tool, or by
answering in plain text. Tools run through `acall_tools` (validated arguments; errors go
back to the model as tool results, so it can correct itself). After `loop_budget` steps
without an answer, `RuntimeError("could not complete react loop in N iterations")`.

```python
result, ctx = await react(goal="...", context=ChatContext(), backend=m.backend, tools=[...])
print(result)                        # the final answer (a computed ModelOutputThunk)
result.parsed_repr                   # with format=SomeModel: the validated instance
```

The returned context is the whole trace (goal, tool calls, tool results). A
`SimpleContext` is replaced by a `ChatContext`, because the loop needs its history sent.
With `compactor=`, the trace is compacted before every step (e.g.
`WindowCompactor(size=8, pin_predicate=pin_react_initiator)`, or an
`LLMSummarizeCompactor` with `react_summary_prompt(goal)`), so long loops stay bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...backends.model_options import ModelOption
from ...core.base import CBlock, Component
from ...core.errors import ComponentParseError
from ...core.message import Message, ToolMessage
from ...core.thunk import ModelOutputThunk
from ..components.react import MELLEA_FINALIZER_TOOL, ReactInitiator, final_answer
from ..context import ChatContext, SimpleContext
from ..context.compactor import Compactor, acompact
from ..functional import aact
from ..tool_calling import acall_tools

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ...core.backend import Backend
    from ...core.context import Context

logger = logging.getLogger("mellea")

FINAL_ANSWER = MELLEA_FINALIZER_TOOL
REACT_SYSTEM_PROMPT = (
    "You are an agent working toward a goal. Reason step by step. Call the tools you need "
    "and read their results. When you know the answer, call the final_answer tool with it."
)


async def react(
    goal: str,
    context: Context,
    backend: Backend,
    *,
    format: type[BaseModel] | None = None,
    model_options: Mapping[str, Any] | None = None,
    tools: Sequence[Any] | Mapping[str, Any] | None = None,
    loop_budget: int = 10,
    compactor: Compactor[Any] | None = None,
) -> tuple[ModelOutputThunk[Any], Context]:
    """Work toward `goal` with `tools`; returns `(final answer thunk, trace context)`."""
    if loop_budget < 1:
        raise ValueError(f"loop_budget must be >= 1, got {loop_budget}")
    initiator = ReactInitiator(goal, tools)
    options = {**(model_options or {}), ModelOption.TOOLS: initiator.tools}
    ctx: Context = ChatContext() if isinstance(context, SimpleContext) else context
    ctx = ctx.add(Message("system", REACT_SYSTEM_PROMPT))
    action: Component[Any] | CBlock = initiator
    answer: str | None = None
    for step in range(1, loop_budget + 1):
        if compactor is not None and step > 1:
            ctx = await acompact(compactor, ctx, backend=backend)
        mot, ctx = await aact(
            action, ctx, backend, strategy=None, model_options=options, tool_calls=True,
            await_result=True,
        )  # fmt: skip
        calls = list((mot.tool_calls or {}).values())
        finish = next((c for c in calls if c.name == FINAL_ANSWER), None)
        if finish is not None:
            answer = str(finish.args.get("answer", mot.value or ""))
            # Every tool call in a history needs its result (chat APIs reject it otherwise).
            ctx = ctx.add(ToolMessage("tool", answer, answer, FINAL_ANSWER, finish.args, finish))
            break
        if not calls:
            answer = mot.value or ""
            break
        results = await acall_tools(mot, backend)
        logger.debug("mellea: react step %d called %s", step, [r.name for r in results])
        for message in results[:-1]:
            ctx = ctx.add(message)
        action = results[-1]
    if answer is None:
        raise RuntimeError(f"could not complete react loop in {loop_budget} iterations")
    if format is None:
        return ModelOutputThunk(answer), ctx
    request = Message(
        "user",
        f"Final answer: {answer}\n\nGive the final answer to the goal ({goal}) as JSON "
        f"matching the {format.__name__} schema.",
    )
    result, ctx = await aact(
        request, ctx, backend, strategy=None, format=format, model_options=model_options,
        await_result=True,
    )  # fmt: skip
    error = result.generation.extra.get("parse_error")
    if isinstance(error, ComponentParseError):
        raise error
    return result, ctx


__all__ = ["FINAL_ANSWER", "REACT_SYSTEM_PROMPT", "final_answer", "react"]
