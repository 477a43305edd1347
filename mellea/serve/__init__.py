"""`m serve`: run any mellea program as an OpenAI-compatible chat endpoint.

A program is a Python file defining `serve()`, sync or async:

```python
def serve(input: list[ChatMessage], requirements: list[str] | None = None,
          model_options: dict | None = None) -> ModelOutputThunk | SamplingResult: ...
```

`m serve program.py` (needs `pip install "mellea[serve]"`) exposes it at
`POST /v1/chat/completions`, with `GET /v1/models`, `GET /health` and a playground page
at `GET /`. This package holds the types `serve()` receives; the server itself is
`mellea.serve.app` (imported only by `m serve`).
"""

from .models import (
    ChatMessage,
    ImageUrlContent,
    InputAudioContent,
    InputAudioData,
    MessageContent,
    TextContent,
)

__all__ = [
    "ChatMessage",
    "ImageUrlContent",
    "InputAudioContent",
    "InputAudioData",
    "MessageContent",
    "TextContent",
]
