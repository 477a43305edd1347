"""Protocol-faithful loopback LLM test server (Ollama + OpenAI chat completions).

from tests.servers import LoopbackServer, Reply

with LoopbackServer(ttft=0.05) as srv:          # thread mode
    srv.enqueue(Reply(text="hello", match="greet"))
    ...                                          # point a client at srv.url
    assert srv.stats().total_requests == 1
"""

from ._model import Reply, RequestRecord, Settings, Stats
from ._text import json_instance, numbered_tokens, tokenize_words
from .loopback import LoopbackError, LoopbackServer

__all__ = [
    "LoopbackError",
    "LoopbackServer",
    "Reply",
    "RequestRecord",
    "Settings",
    "Stats",
    "json_instance",
    "numbered_tokens",
    "tokenize_words",
]
