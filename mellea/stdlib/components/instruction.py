"""`Instruction`: the component behind `m.instruct(...)`."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.requirement import Requirement
from ...core.thunk import ModelOutputThunk
from ...helpers.templating import render


def _text(item: str | CBlock | Component[Any]) -> str:
    if isinstance(item, str):
        return item
    from ...formatters.chat_formatter import DEFAULT_FORMATTER

    return DEFAULT_FORMATTER.print(item)


def _fill(variables: Mapping[str, Any], text: str) -> str:
    """`text` with its `{{name}}` placeholders filled from `variables` (none: as is)."""
    return Instruction.apply_user_dict_from_jinja(variables, text) if variables else text


def as_requirement(r: str | Requirement) -> Requirement:
    return r if isinstance(r, Requirement) else Requirement(r)


class Instruction(Component[str]):
    """A task for the model: description, requirements, examples and grounding context.

    `{{name}}` placeholders in the description (and examples, context) are filled from
    `user_variables` (Jinja2 syntax).
    """

    def __init__(
        self,
        description: str | CBlock | None = None,
        requirements: Sequence[str | Requirement] | None = None,
        icl_examples: Sequence[str | CBlock] | None = None,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = None,
        user_variables: Mapping[str, Any] | None = None,
        prefix: str | CBlock | None = None,
        output_prefix: str | CBlock | None = None,
        images: list[Any] | None = None,
        audio: list[Any] | None = None,
    ) -> None:
        # Plain loops, no closure or comprehension over locals: this runs on every
        # instruct() call, and those would allocate cells and functions each time.
        variables = dict(user_variables) if user_variables else {}
        desc = description.value if isinstance(description, CBlock) else description
        self.description = _fill(variables, desc) if desc is not None else None
        reqs: list[Requirement] = []
        for r in requirements or ():
            r = as_requirement(r)
            text = r.description
            if text and variables:
                # Fill a copy: the caller's Requirement may serve other calls concurrently.
                r = copy.copy(r)
                r.description = _fill(variables, text)
            reqs.append(r)
        self._requirements = reqs
        self.icl_examples: list[str] = []
        for e in icl_examples or ():
            self.icl_examples.append(_fill(variables, _text(e)))
        self.grounding_context: dict[str, str | CBlock | Component[Any]] = {}
        for k, v in (grounding_context or {}).items():
            self.grounding_context[k] = _fill(variables, v) if isinstance(v, str) else v
        self.prefix = _text(prefix) if prefix is not None else None
        self.output_prefix = _text(output_prefix) if output_prefix is not None else None
        self._images = images
        self._audio = audio
        self.user_variables = variables
        self.repair_string: str | None = None

    @property
    def requirements(self) -> list[Requirement]:
        """The requirements shown to the model and checked by a sampling strategy."""
        return self._requirements

    @property
    def _description(self) -> CBlock | None:
        """The description as a block: the attribute Mellea's plugin examples read
        (`str(payload.action._description)`)."""
        return CBlock(self.description) if self.description is not None else None

    @property
    def images(self) -> list[Any] | None:
        """The images sent with the instruction."""
        return self._images

    @property
    def audio(self) -> list[Any] | None:
        """The audio clips sent with the instruction."""
        return self._audio

    @staticmethod
    def apply_user_dict_from_jinja(user_dict: Mapping[str, Any], s: str) -> str:
        """`s` with its `{{name}}` placeholders filled from `user_dict` (Jinja2 syntax)."""
        return render(s, dict(user_dict))

    def parts(self) -> list[Component[Any] | CBlock]:
        found: list[Component[Any] | CBlock] = list(self.requirements)
        if self.grounding_context:
            found.extend(v for v in self.grounding_context.values() if not isinstance(v, str))
        return found

    def copy_and_repair(self, repair_string: str) -> Instruction:
        """A copy of this instruction carrying feedback about a failed attempt."""
        clone = object.__new__(Instruction)
        clone.__dict__.update(self.__dict__)
        clone.repair_string = repair_string
        return clone

    def format_for_llm(self) -> TemplateRepresentation:
        """The instruction's text (a single argument), with its images and audio."""
        return TemplateRepresentation(
            obj=self, args={"text": self.text()}, images=self.images, audio=self.audio
        )

    def text(self) -> str:
        """The instruction as the model reads it: prefix, description, requirements,
        examples, grounding context, repair feedback, output prefix."""
        sections: list[str] = []
        if self.prefix:
            sections.append(self.prefix)
        if self.description:
            sections.append(self.description)
        shown = [r.description for r in self.requirements if r.description and not r.check_only]
        if shown:
            sections.append("Requirements:\n" + "\n".join(f"- {d}" for d in shown))
        if self.icl_examples:
            examples = "\n".join(f"<example>\n{e}\n</example>" for e in self.icl_examples)
            sections.append("Examples:\n" + examples)
        if self.grounding_context:
            ctx = "\n".join(f"[{k}]\n{_text(v)}" for k, v in self.grounding_context.items())
            sections.append("Use this context:\n" + ctx)
        if self.repair_string:
            sections.append(self.repair_string)
        if self.output_prefix:
            sections.append(self.output_prefix)
        return "\n\n".join(sections)

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    def __repr__(self) -> str:
        return f"Instruction({self.description!r}, requirements={len(self.requirements)})"
