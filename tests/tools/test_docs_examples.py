"""The docs pages' tool examples: the code interpreter, and MCP servers built with mellea."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.servers import LoopbackServer, Reply

CODE_INTERPRETER = """
from mellea.stdlib.tools import python_tool

tool = python_tool(tier="local_unsafe")
result = tool.run(code="print(1 + 1)")
print(result.stdout)  # "2"
"""


def test_code_interpreter_example(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    exec(
        compile(CODE_INTERPRETER, "<docs example>", "exec", dont_inherit=True),
        {"__name__": "__main__"},
    )
    assert capsys.readouterr().out == "2\n\n"
    assert any(
        "WITHOUT isolation" in r.getMessage() for r in caplog.records
    )  # the opt-in is logged


MCP_SERVER = """
from mcp.server.fastmcp import FastMCP
from mellea import MelleaSession
from mellea.backends import ModelOption, model_ids
from mellea.backends.ollama import OllamaModelBackend
from mellea.core import Requirement
from mellea.stdlib.requirements import simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy

mcp = FastMCP("mellea-demo")

@mcp.tool()
def write_a_poem(word_limit: int) -> str:
    \"\"\"Write a poem with a specified word limit.\"\"\"
    m = MelleaSession(
        OllamaModelBackend(
            model_ids.IBM_GRANITE_4_HYBRID_MICRO,
            model_options={ModelOption.MAX_NEW_TOKENS: word_limit + 10},
        )
    )
    word_limit_req = Requirement(
        f"Use only {word_limit} words.",
        validation_fn=simple_validate(lambda x: len(x.split()) < word_limit),
    )
    result = m.instruct(
        "Write a poem.",
        requirements=[word_limit_req],
        strategy=RejectionSamplingStrategy(loop_budget=2),
    )
    return str(result.value)

@mcp.resource("greeting://{name}")
def get_greeting(name: str) -> str:
    \"\"\"Get a personalized greeting.\"\"\"
    return f"Hello, {name}!"
"""


async def test_mcp_server_page_example(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mcp")
    monkeypatch.setenv("OLLAMA_HOST", loopback.host_port)
    namespace: dict[str, Any] = {"__name__": "docs_mcp_server"}
    exec(compile(MCP_SERVER, "<docs example>", "exec", dont_inherit=True), namespace)
    server = namespace["mcp"]
    loopback.enqueue(Reply(text="a very long poem that goes on and on"), Reply(text="short poem"))
    tools = await server.list_tools()
    assert [t.name for t in tools] == ["write_a_poem"]
    blocks = await server.call_tool("write_a_poem", {"word_limit": 5})
    content = blocks[0] if isinstance(blocks, tuple) else blocks
    assert content[0].text == "short poem"  # the first poem broke the word limit
    body = loopback.stats().for_path("/api/chat")[0].body
    assert body["model"] == "granite4:micro-h" and body["options"]["num_predict"] == 15
    greeting = await server.read_resource("greeting://Ada")
    assert next(iter(greeting)).content == "Hello, Ada!"
