"""The components of a ReAct loop (`mellea.stdlib.frameworks.react`).

- `ReactInitiator(goal, tools)`: the goal that opens the loop; it offers the tools and
  the `final_answer` tool that ends it;
- `ReactThought()`: a nudge to take the next step (or finish);
- `pin_react_initiator`: a pin predicate keeping everything up to the goal through
  compaction; `react_summary_prompt(goal)`: a summary prompt for `LLMSummarizeCompactor`
  that keeps what a continuing agent needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.context import ContextItem
from ...core.thunk import ModelOutputThunk

MELLEA_FINALIZER_TOOL = "final_answer"
"""The tool the model calls to finish a ReAct loop."""


def final_answer(answer: str) -> str:
    """Finish: give the final answer to the goal.

    Args:
        answer: The complete final answer.
    """
    return answer


def _offered_tools(tools: Sequence[Any] | Mapping[str, Any] | None) -> dict[str, Any]:
    from ...backends.tools import MelleaTool, normalize_tools

    return {
        **normalize_tools(tools),
        MELLEA_FINALIZER_TOOL: MelleaTool.from_callable(final_answer),
    }


class ReactInitiator(Component[str]):
    """The goal of a ReAct loop, with the tools it may use (plus `final_answer`)."""

    def __init__(self, goal: str, tools: Sequence[Any] | Mapping[str, Any] | None) -> None:
        self.goal = CBlock(goal)
        self.tools: dict[str, Any] = _offered_tools(tools)

    def parts(self) -> list[Component[Any] | CBlock]:
        return [self.goal]

    def format_for_llm(self) -> TemplateRepresentation:
        return TemplateRepresentation(
            obj=self, args={"goal": self.goal.value or ""}, tools=self.tools,
            template="Goal: {{ goal }}",
        )  # fmt: skip

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""


class ReactThought(Component[str]):
    """Asks the model for its next step: call a tool, or `final_answer` when done."""

    def parts(self) -> list[Component[Any] | CBlock]:
        return []

    def format_for_llm(self) -> str:
        return (
            "Think about what to do next and take the next step. Call a tool if you need "
            f"more information; when you have the answer, call `{MELLEA_FINALIZER_TOOL}`."
        )

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""


def pin_react_initiator(components: list[ContextItem]) -> int:
    """Pin everything up to and including the first `ReactInitiator` (0 if there is none)."""
    for i, item in enumerate(components):
        if isinstance(item, ReactInitiator):
            return i + 1
    return 0


def react_summary_prompt(goal: str | None = None, max_tokens_hint: int | None = None) -> str:
    """A `{conversation}` summary prompt for an agent's progress (`LLMSummarizeCompactor`).

    `goal` anchors the summary (braces in it are kept literally); `max_tokens_hint` adds a
    soft length cap to the instructions (pair it with a `MAX_NEW_TOKENS` model option).
    """
    lines = ["Summarize the progress of an agent working toward a goal, so it can continue."]
    if goal:
        lines += ["", "GOAL: " + goal.replace("{", "{{").replace("}", "}}")]
    lines += [
        "",
        "The summary must:",
        "- keep every specific fact, number, name, URL and query found so far;",
        "- say which tools were called and what they returned;",
        "- note the key findings and the dead ends;",
        "- be organised so the work can go on without the original messages.",
    ]
    if max_tokens_hint is not None and max_tokens_hint > 0:
        lines.append(f"- be at most about {max_tokens_hint} tokens long.")
    lines += ["", "Progress so far:", "{conversation}"]
    return "\n".join(lines)


__all__ = [
    "MELLEA_FINALIZER_TOOL",
    "ReactInitiator",
    "ReactThought",
    "final_answer",
    "pin_react_initiator",
    "react_summary_prompt",
]
