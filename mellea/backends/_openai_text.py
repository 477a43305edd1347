"""Plain completions on the OpenAI wire: `POST /completions` (vLLM, llama.cpp, SGLang, ...).

Used by `generate_from_raw`: the prompt text is sent as is, without a chat template.
The response carries `choices[0].text` (streamed as `text_completion` chunks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import BackendProtocolError
from ..core.thunk import ModelOutputThunk
from ._chat_parts import RawCall
from ._openai_response import error_from_payload
from ._openai_wire import JsonForm, add_sampling_fields, response_format

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
    """Reads `text_completion` objects (a whole answer, or stream chunks) into a thunk
    (a `Reader` of `_openai_response`: the raw objects are kept in `mot.raw`)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.finish_reason: str | None = None

    async def absorb(self, mot: ModelOutputThunk[Any], data: Any) -> None:
        if not isinstance(data, dict):
            raise BackendProtocolError(f"{self.service} sent an unexpected object: {data!r:.200}")
        if data.get("error") is not None:
            raise error_from_payload(data["error"], self.service)
        raw = mot.raw
        if raw.streamed_chunks is None:
            raw.streamed_chunks = []
        raw.streamed_chunks.append(data)
        gen = mot.generation
        gen.response_id = gen.response_id or data.get("id")
        gen.usage = _usage(data.get("usage")) or gen.usage
        if isinstance(data.get("model"), str):
            gen.response_model = data["model"]
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            text = choice.get("text")
            if isinstance(text, str) and text:
                mot._feed(text)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])

    async def finish(self, mot: ModelOutputThunk[Any]) -> None:
        if self.finish_reason is None and not mot.partial_value:
            raise BackendProtocolError(f"{self.service} sent a completion without choices")
        if self.finish_reason is not None:
            mot.generation.finish_reasons = [self.finish_reason]
        raw = mot.raw
        chunks = raw.streamed_chunks or []
        if len(chunks) == 1:  # one whole answer, not a stream
            raw.response, raw.streamed_chunks = chunks[0], None
        else:
            raw.response = {
                "id": mot.generation.response_id,
                "object": "text_completion",
                "model": mot.generation.response_model,
                "choices": [
                    {"index": 0, "text": mot.partial_value, "finish_reason": self.finish_reason}
                ],
                "usage": mot.generation.usage,
            }

    def finished(self, mot: ModelOutputThunk[Any]) -> bool:
        return self.finish_reason is not None


__all__ = ["COMPLETIONS_PATH", "TextAssembler", "completion_payload"]
