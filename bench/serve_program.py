"""The program `bench/_serve.py` serves with `m serve` and also calls in-process.

An async `serve()` on the session `start_session()` picks from the environment
(`MELLEA_BACKEND=openai`, `OPENAI_BASE_URL` = the loopback server): the last message as a
plain instruction, its thunk returned uncomputed so `m serve` streams it.
"""

from typing import Any

import mellea
from mellea.serve import ChatMessage

session = mellea.start_session()


async def serve(
    input: list[ChatMessage],
    requirements: list[str] | None = None,
    model_options: dict[str, Any] | None = None,
) -> Any:
    return await session.ainstruct(
        input[-1].get_text_content(), strategy=None, model_options=model_options
    )
