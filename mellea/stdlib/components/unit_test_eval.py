"""Generative unit tests judged by a model: `TestBasedEval` and its JSON schema.

A test file holds one test object or a list of them:

```json
[{"source": "emails", "name": "case_001", "id": "tc-001",
  "instructions": "The email should follow the instructions in the input.",
  "examples": [{"input_id": "ex-001",
                "input": [{"role": "user", "content": "Write a follow-up email"}],
                "targets": [{"role": "assistant", "content": "Thank you for ..."}]}]}]
```

`TestBasedEval.from_json_file(path)` gives one `TestBasedEval` per test. For each input, a
program generates a prediction, calls `set_judge_context(input, prediction, targets)`, and
acts the eval on a judge session: the judge answers `{"score": 0 | 1, "justification": ...}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from ...core.base import CBlock, Component, TemplateRepresentation
from ...core.thunk import ModelOutputThunk


class Message(BaseModel):
    """One message of a test example (`role`, `content`)."""

    role: str
    content: str


class Example(BaseModel):
    """An example: the input messages and the reference answers (targets) for them."""

    input: list[Message]
    targets: list[Message] = Field(default_factory=list)
    input_id: str = ""


class TestData(BaseModel):
    """One test as stored in JSON: what it is, how to judge, and its examples."""

    __test__ = False  # not a pytest test class

    source: str
    name: str
    instructions: str
    examples: list[Example] = Field(default_factory=list)
    id: str

    @field_validator("examples")
    @classmethod
    def validate_examples(cls, v: list[Example]) -> list[Example]:
        """A test needs at least one example."""
        if not v:
            raise ValueError("a test needs at least one example")
        return v


JUDGE_TEMPLATE = """\
You are grading the output of a language model.

Input given to the model:
{{ input }}

Output to grade:
{{ prediction }}
{% if target %}
Reference answer(s):
{{ target }}
{% endif %}
Guidelines the output must follow:
{{ guidelines }}

Score 0 if the output breaks any guideline. Score 1 if it follows every guideline and \
agrees with the input{% if target %} and the reference answer(s){% endif %}.
Reply with JSON only: {"score": 0 or 1, "justification": "one or two sentences"}"""


class TestBasedEval(Component[str]):
    """One generative unit test: its judging instructions and its inputs and targets."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        source: str,
        name: str,
        instructions: str,
        inputs: list[str],
        targets: list[list[str]] | None = None,
        test_id: str | None = None,
        input_ids: list[str] | None = None,
    ) -> None:
        self.source = source
        self.name = name
        self.instructions = instructions
        self.inputs = list(inputs)
        self.targets = [list(t) for t in targets] if targets is not None else []
        self.test_id = test_id
        self.input_ids = list(input_ids) if input_ids is not None else []
        self._judge_context: dict[str, Any] = {}

    def set_judge_context(
        self, input_text: str, prediction: str, targets_for_input: list[str]
    ) -> None:
        """What the judge sees next: the input, the prediction, and its reference answers."""
        if len(targets_for_input) == 1:
            target = targets_for_input[0]
        else:
            target = "\n".join(f"{i}. {t}" for i, t in enumerate(targets_for_input, 1))
        self._judge_context = {
            "input": input_text,
            "prediction": prediction,
            "target": target,
            "guidelines": self.instructions,
        }

    def parts(self) -> list[Component[Any] | CBlock]:
        return []

    def format_for_llm(self) -> TemplateRepresentation:
        if not self._judge_context:
            raise ValueError(
                f"call set_judge_context(input, prediction, targets) on test {self.name!r} "
                "before sending it to a judge"
            )
        return TemplateRepresentation(
            obj=self, args=dict(self._judge_context), template=JUDGE_TEMPLATE
        )

    def _parse(self, computed: ModelOutputThunk[Any]) -> str:
        return computed.value or ""

    @classmethod
    def from_json_file(cls, filepath: str) -> list[TestBasedEval]:
        """One `TestBasedEval` per test in the file (an object or a list of objects).

        A test that does not fit the schema raises `ValueError` naming it.
        """
        raw = json.loads(Path(filepath).read_text(encoding="utf-8"))
        entries = raw if isinstance(raw, list) else [raw]
        evals = []
        for i, entry in enumerate(entries):
            try:
                data = TestData.model_validate(entry)
            except ValidationError as exc:
                raise ValueError(f"{filepath}: test #{i} does not fit the schema: {exc}") from exc
            evals.append(
                cls(
                    source=data.source,
                    name=data.name,
                    instructions=data.instructions,
                    inputs=["\n".join(m.content for m in ex.input) for ex in data.examples],
                    targets=[[t.content for t in ex.targets] for ex in data.examples],
                    test_id=data.id,
                    input_ids=[ex.input_id for ex in data.examples],
                )
            )
        return evals

    def __repr__(self) -> str:
        return f"TestBasedEval({self.name!r}, {len(self.inputs)} inputs)"


__all__ = ["Example", "Message", "TestBasedEval", "TestData"]
