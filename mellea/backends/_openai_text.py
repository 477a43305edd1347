"""Plain completions on the OpenAI wire: `POST /completions` (vLLM, llama.cpp, SGLang, ...).

Used by `generate_from_raw`: the prompt text is sent as is, without a chat template.
The response carries `choices[0].text` (streamed as `text_completion` chunks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import BackendProtocolError
from ..core.thunk import ModelOutputThunk
from ._chat import RawCall
from ._openai_wire import JsonForm, add_sampling_fields, error_from_payload, response_format

COMPLETIONS_PATH = "/completions"


def completion_payload(
    model: str,
    call: RawCall,
    *,
    json_form: JsonForm = "json_schema",
    default_extra_body: Mapping[str, Any] | None = None,
    merge_extra_body: bool = True,
) -> dict[str, Any]:
    """The `/completions` request body of a plain completion."""
    payload: dict[str, Any] = {"model": model, "prompt": call.prompt}
    add_sampling_fields(
        payload, call.options, default_extra_body=default_extra_body,
        merge_extra_body=merge_extra_body,
    )  # fmt: skip
    if call.json_schema is not None:
        name = call.format.__name__ if call.format is not None else "output"
        payload["response_format"] = response_format(name, call.json_schema, json_form)
    return payload


def _usage(raw: Any) -> dict[str, int] | None:
    if not isinstance(raw, dict):
        return None
    return {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)} or None


class TextAssembler:
    """Reads `text_completion` objects (a whole answer, or stream chunks) into a thunk."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.finish_reason: str | None = None

    def absorb(self, data: Any, mot: ModelOutputThunk[Any]) -> None:
        if not isinstance(data, dict):
            raise BackendProtocolError(f"{self.service} sent an unexpected object: {data!r:.200}")
        if data.get("error") is not None:
            raise error_from_payload(data["error"], self.service)
        gen = mot.generation
        if gen.response_id is None and data.get("id"):
            gen.response_id = data["id"]
        gen.usage = _usage(data.get("usage")) or gen.usage
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            text = choice.get("text")
            if isinstance(text, str) and text:
                mot._feed(text)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])

    def absorb_whole(self, data: Any, mot: ModelOutputThunk[Any]) -> None:
        """A non-streamed answer: it must carry a choice."""
        if isinstance(data, dict) and data.get("error") is None and not data.get("choices"):
            raise BackendProtocolError(f"{self.service} sent a completion without choices")
        self.absorb(data, mot)
        self.finish(mot)

    def finish(self, mot: ModelOutputThunk[Any]) -> None:
        if self.finish_reason is not None:
            mot.generation.finish_reasons = [self.finish_reason]


__all__ = ["COMPLETIONS_PATH", "TextAssembler", "completion_payload"]
