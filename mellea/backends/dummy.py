"""`DummyBackend`: scripted replies for unit-testing programs built on mellea.

No model and no network: each generation answers with the next scripted string, through
the same path as a real engine — options are validated, the prompt is rendered (and kept
on `mot.generate_log` / `mot._prompt`), `format=` replies are parsed into
`mot.parsed_repr`, and `ModelOption.STREAM` streams the reply in pieces.

```python
from mellea import MelleaSession
from mellea.backends.dummy import DummyBackend

m = MelleaSession(DummyBackend(["Paris", "Rome"]))
assert m.instruct("Capital of France?").value == "Paris"
assert m.instruct("Capital of Italy?").value == "Rome"
```
"""

from __future__ import annotations

import asyncio
import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

from ..core.base import CBlock, Component
from ..core.errors import BackendError
from ..core.thunk import ModelOutputThunk
from ._chat import ChatBackend, ChatCall
from ._chat_parts import RawCall
from ._tool_calls import add_tool_call, parse_tool_call
from ._tool_text import parse_tools

_PIECES = re.compile(r"\S+\s*|\s+")


class DummyBackend(ChatBackend):
    """Answers each generation with the next of `responses`, in call order.

    Args:
        responses: The replies, in order; `None` answers `"dummy"` every time. Once the
            list is used up, a further call raises `BackendError` (the test asked for
            more generations than it scripted).
        model_id: The model name reported in `mot.generation.model` (default "dummy").
        model_options: Defaults for every call, validated as a real engine would.
        stream_delay: Seconds between the pieces (words) of a streamed reply, to test
            code that consumes a stream as it arrives.

    With `tool_calls=True`, a reply holding `{"name": ..., "arguments": {...}}` for an
    offered tool also becomes a tool call in `mot.tool_calls`. `idx` is the index of the
    next reply; `calls` holds the chat messages of every generation so far (a plain
    completion from `generate_from_raw` as one `{"role": "raw", "content": prompt}`).
    """

    provider: ClassVar[str] = "dummy"

    def __init__(
        self,
        responses: list[str] | None,
        *,
        model_id: str = "dummy",
        model_options: Mapping[str, Any] | None = None,
        stream_delay: float = 0.0,
    ) -> None:
        super().__init__(model_id, model_options=model_options)
        self.stream_delay = stream_delay
        if responses is not None and not all(isinstance(r, str) for r in responses):
            raise TypeError("DummyBackend responses must be strings")
        self.responses = responses
        self.idx = 0
        self.calls: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._replies: weakref.WeakKeyDictionary[ModelOutputThunk[Any], str] = (
            weakref.WeakKeyDictionary()
        )

    def _claim(self, count: int) -> list[str]:
        """The next `count` replies (claimed when a call starts, so order is call order)."""
        with self._lock:
            if self.responses is None:
                return ["dummy"] * count
            if self.idx + count > len(self.responses):
                raise BackendError(
                    f"DummyBackend was scripted with {len(self.responses)} responses and "
                    f"{self.idx} are used; this call needs {count} more"
                )
            replies = self.responses[self.idx : self.idx + count]
            self.idx += count
            return replies

    def _new_thunk(self, action: Component[Any] | CBlock) -> ModelOutputThunk[Any]:
        mot: ModelOutputThunk[Any] = ModelOutputThunk()
        self._replies[mot] = self._claim(1)[0]
        return mot

    async def _generate(self, call: ChatCall, mot: ModelOutputThunk[Any]) -> None:
        self.calls.append(call.messages)
        reply = await self._answer(mot, call.options.stream)
        if call.tool_calls and call.tools:
            for i, (name, args) in enumerate(parse_tools(reply)):
                if name in call.tools:
                    tc = parse_tool_call(name, args, call.tools, f"call_{i}")
                    mot.tool_calls = add_tool_call(mot.tool_calls, tc)

    async def _generate_raw(self, call: RawCall, mot: ModelOutputThunk[Any]) -> None:
        self.calls.append([{"role": "raw", "content": call.prompt}])
        await self._answer(mot, call.options.stream)

    async def _answer(self, mot: ModelOutputThunk[Any], stream: bool) -> str:
        reply = self._replies.pop(mot, "dummy")
        if stream:
            for piece in _PIECES.findall(reply):
                mot._feed(piece)
                await asyncio.sleep(self.stream_delay)
        else:
            mot._feed(reply)
        mot.generation.finish_reasons = ["stop"]
        return reply


__all__ = ["DummyBackend"]
