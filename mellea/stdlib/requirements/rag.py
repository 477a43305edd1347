"""`GroundednessRequirement`: every claim of the response is supported by the documents.

Checked by asking the model (the same backend, or any backend `validate` is given):
the documents and the response go into one judging prompt, whose first word is the
verdict — `yes` (fully supported), `partial`, or `no` — followed by the unsupported
claims. `allow_partial_support=True` accepts `partial`. Documents come from the
constructor, else from the context (`Document`s added to it, or a message's
`documents`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...backends.model_options import ModelOption
from ...core.base import Component
from ...core.message import Document
from ...core.requirement import Requirement, ValidationResult
from ...core.thunk import ModelOutputThunk

if TYPE_CHECKING:
    from ...core.backend import Backend
    from ...core.context import Context

_PROMPT = (
    "Check whether the response is grounded in the documents.\n\n{documents}\n\n"
    "Response:\n<response>\n{response}\n</response>\n\n"
    'Answer with one word first: "yes" if every claim in the response is supported by the '
    'documents, "partial" if only some are, "no" if none are. Then list the unsupported claims.'
)
_VERDICT = re.compile(r"\b(yes|partial|partially|no)\b", re.IGNORECASE)


class GroundednessCheck(Component[str]):
    """The judging prompt of `GroundednessRequirement`."""

    def __init__(self, documents: list[Document], response: str) -> None:
        self.documents = documents
        self.response = response

    def format_for_llm(self) -> str:
        docs = "\n\n".join(d.render() for d in self.documents)
        return _PROMPT.format(documents=docs, response=self.response)

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""


def _documents_in(ctx: Context) -> list[Document]:
    found: list[Document] = []
    for item in ctx.as_list():
        if isinstance(item, Document):
            found.append(item)
        found.extend(d for d in getattr(item, "documents", None) or [] if isinstance(d, Document))
    return found


class GroundednessRequirement(Requirement):
    """The response is supported by `documents` (see the module docstring)."""

    def __init__(
        self,
        documents: Iterable[Document] | Iterable[str] | None = None,
        allow_partial_support: bool = False,
        max_new_tokens: int = 500,
        description: str | None = None,
    ) -> None:
        docs = [d if isinstance(d, Document) else Document(str(d)) for d in documents or []]
        self.documents = docs
        self.allow_partial_support = allow_partial_support
        self.max_new_tokens = max_new_tokens
        super().__init__(
            description or "The response must be supported by the provided documents.",
            check_only=True,
        )

    async def validate(
        self,
        backend: Backend,
        ctx: Context,
        *,
        format: type | None = None,
        model_options: dict[str, Any] | None = None,
    ) -> ValidationResult:
        output = ctx.last_output()
        if output is None:
            return ValidationResult(False, reason="There is no response to check.", context=ctx)
        response = await output.avalue() if not output.is_computed() else output.value
        documents = self.documents or _documents_in(ctx)
        if not documents:
            return ValidationResult(
                False, reason="No documents to check the response against.", context=ctx
            )
        options = {k: v for k, v in (model_options or {}).items() if k != ModelOption.TOOLS}
        options[ModelOption.MAX_NEW_TOKENS] = self.max_new_tokens
        from ..context import SimpleContext

        judge, judge_ctx = await backend.generate_from_context(
            GroundednessCheck(documents, response or ""), SimpleContext(), model_options=options
        )
        answer = (await judge.avalue()).strip()
        match = _VERDICT.search(answer)
        verdict = match.group(1).lower() if match else "no"
        passed = verdict == "yes" or (self.allow_partial_support and verdict.startswith("partial"))
        score = {"yes": 1.0, "partial": 0.5, "partially": 0.5}.get(verdict, 0.0)
        return ValidationResult(passed, reason=answer, score=score, thunk=judge, context=judge_ctx)


__all__ = ["GroundednessCheck", "GroundednessRequirement"]
