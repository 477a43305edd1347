"""The component behind one call of a `@generative` function: how the function is shown
to the model (signature, docstring, arguments) and how its reply becomes a typed value."""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...core.base import CBlock, Component
from ...core.errors import ComponentParseError
from ...core.requirement import Requirement
from ...core.thunk import ModelOutputThunk

if TYPE_CHECKING:
    from pydantic import BaseModel

RESERVED = (
    "m", "context", "backend", "requirements", "strategy", "precondition_requirements",
    "model_options",
)  # fmt: skip
"""Keyword arguments of a generative call that are its options, not the function's."""


def _type_name(hint: Any) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return str(hint).replace("typing.", "")


def arg_text(value: Any, *, quoted: bool) -> str:
    """How an argument is shown to the model (strings JSON-quoted in the prompt)."""
    if isinstance(value, CBlock):
        value = value.value or ""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if quoted else value
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


class FunctionSpec:
    """What a decorated function tells the model, and how its output is validated."""

    def __init__(self, func: Callable[..., Any], localns: Mapping[str, Any] | None) -> None:
        self.func = func
        self.name = func.__name__
        self.signature = inspect.signature(func)
        bad = [p for p in self.signature.parameters if p in RESERVED]
        if bad:
            raise ValueError(
                f"@generative function {self.name}() cannot have parameters named {bad}: "
                f"{', '.join(RESERVED)} are the call's own options"
            )
        self._localns = dict(localns or {})
        self._resolved = False
        self.hints: dict[str, Any] = {}
        self.format: type[BaseModel] | None = None
        self.mode = "text"
        try:
            self.resolve()
        except NameError:  # a forward reference defined later: resolved on first call
            pass

    def resolve(self) -> None:
        if self._resolved:
            return
        from pydantic import BaseModel, Field, create_model

        self.hints = typing.get_type_hints(self.func, localns=self._localns)
        ret = self.hints.get("return", str)
        if ret is None or ret is type(None):
            raise TypeError(f"@generative function {self.name}() must declare what it returns")
        if ret in (str, Any):
            self.mode, self.format = "text", None
        elif isinstance(ret, type) and issubclass(ret, BaseModel):
            self.mode, self.format = "model", ret
        else:
            model_name = "".join(p.title() for p in self.name.split("_")) + "Result"
            try:
                self.format = create_model(
                    model_name, result=(ret, Field(description=f"What {self.name} returns"))
                )
            except Exception as exc:
                raise TypeError(
                    f"@generative function {self.name}(): cannot validate its return type "
                    f"{_type_name(ret)} as JSON: {exc}"
                ) from exc
            self.mode = "wrapped"
        self._resolved = True

    def describe(self) -> str:
        params = []
        for name, p in self.signature.parameters.items():
            hint = self.hints.get(name, p.annotation)
            text = name if hint is inspect.Parameter.empty else f"{name}: {_type_name(hint)}"
            if p.default is not p.empty:
                text += f" = {p.default!r}"
            params.append(text)
        ret = _type_name(self.hints.get("return", str))
        doc = inspect.getdoc(self.func) or ""
        body = '    """' + doc.replace("\n", "\n    ") + '"""' if doc else "    ..."
        return f"def {self.name}({', '.join(params)}) -> {ret}:\n{body}"

    def value_of(self, text: str) -> Any:
        """The typed value of a reply; raises `ComponentParseError` if it does not validate."""
        if self.format is None:
            return text.strip()
        try:
            parsed = self.format.model_validate_json(text)
        except ValueError as exc:
            raise ComponentParseError(
                f"{self.name}() output does not match its return type: {exc}",
                partial_output=text,
            ) from None
        return parsed if self.mode == "model" else parsed.result  # type: ignore[attr-defined]  # the wrapper model's one field


class GenerativeCall(Component[Any]):
    """One call of a generative function: the component sent to the model."""

    def __init__(
        self,
        spec: FunctionSpec,
        arguments: Mapping[str, Any],
        requirements: Sequence[Requirement] = (),
    ) -> None:
        self.spec = spec
        self.arguments = dict(arguments)
        self.requirements = list(requirements)
        self.repair_string: str | None = None

    def parts(self) -> list[Component[Any] | CBlock]:
        inputs = [v for v in self.arguments.values() if isinstance(v, Component | CBlock)]
        return [*inputs, *self.requirements]

    def format_for_llm(self) -> str:
        spec = self.spec
        sections = [
            "Act as the Python function below: produce its return value for these arguments.",
            spec.describe(),
        ]
        if self.arguments:
            sections.append(
                "Arguments:\n"
                + "\n".join(f"{k} = {arg_text(v, quoted=True)}" for k, v in self.arguments.items())
            )
        shown = [r.description for r in self.requirements if r.description and not r.check_only]
        if shown:
            sections.append("Requirements:\n" + "\n".join(f"- {d}" for d in shown))
        if self.repair_string:
            sections.append(self.repair_string)
        if spec.format is None:
            sections.append("Reply with only the return value, as plain text.")
        else:
            schema = json.dumps(spec.format.model_json_schema(), separators=(",", ":"))
            what = (
                "the return value as a JSON object"
                if spec.mode == "model"
                else 'a JSON object whose "result" field is the return value'
            )
            sections.append(f"Reply with only {what}, matching this JSON schema: {schema}")
        return "\n\n".join(sections)

    def copy_and_repair(self, repair_string: str) -> GenerativeCall:
        """A copy carrying feedback about a failed attempt (for repair strategies)."""
        clone = GenerativeCall(self.spec, self.arguments, self.requirements)
        clone.repair_string = repair_string
        return clone

    def _parse(self, computed: ModelOutputThunk[Any]) -> Any:
        return self.spec.value_of(computed.value or "")

    def __repr__(self) -> str:
        return f"GenerativeCall({self.spec.name}, {list(self.arguments)})"


__all__ = ["RESERVED", "FunctionSpec", "GenerativeCall", "arg_text"]
