"""The plugin pages' code blocks run unchanged on the loopback Ollama server.

"Plugins & Hooks" (concepts_plugins.md) is a walk through fragments: they run in page
order in one namespace, as a reader would paste them, after a prelude that defines what
the page leaves to the reader (`estimate_tokens`, `ContentGuard`, `log_request`, ...)
as real hooks that record what fired. "Debug with Plugins" registers the built-in debug
plugins. `start_session()` finds the loopback server through OLLAMA_HOST, as it finds a
user's Ollama.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from mellea.core import hooks
from mellea.core.hooks.generation import GenerationPreCallPayload
from tests.servers import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
DOCS = next(
    (
        p / "shared" / "spec" / "docs"
        for p in (ROOT.parent, ROOT.parent.parent)  # a clone, or a worktree in wt/
        if (p / "shared").is_dir()
    ),
    ROOT / "missing",
)
needs_docs = pytest.mark.skipif(not DOCS.exists(), reason="shared spec folder not present")
# Verbatim copies of the two pages (Apache-2.0, see examples/docs/LICENSE), so a clean
# clone without the shared spec folder still runs their code.
PAGES = Path(__file__).parent / "docs_pages"

PRELUDE = """
import logging
from mellea.plugins import HookType, Plugin, PluginMode, PluginSet, block, hook

FIRED = []
log = logger = logging.getLogger("docs")


def _recorder(name, point=HookType.COMPONENT_PRE_EXECUTE, mode=PluginMode.SEQUENTIAL):
    @hook(point, mode=mode)
    async def record(payload, ctx):
        FIRED.append(name)

    record.__qualname__ = name
    return record


def estimate_tokens(payload):
    return 4 * len(str(payload.action))


def is_unsafe(payload):
    return False


def is_prohibited(payload):
    return "forbidden" in str(payload.action)


async def is_rate_limited(ctx):
    return False


class telemetry_client:
    sent = []

    @classmethod
    async def send(cls, data):
        cls.sent.append(data)


@hook(HookType.COMPONENT_PRE_EXECUTE)
async def enforce_content_policy(payload, ctx):  # the page defines it further down
    FIRED.append("enforce_content_policy")


@hook(HookType.COMPONENT_PRE_EXECUTE, priority=20)
async def enforce_description_length(payload, ctx):
    if len(str(payload.action._description)) > 500:
        return block("Description too long", code="DESC_TOO_LONG")


class ContentGuard(Plugin, name="content-guard"):
    @hook(HookType.COMPONENT_PRE_EXECUTE)
    async def check(self, payload, ctx):
        FIRED.append("content-guard")


hook_a, hook_b = _recorder("hook_a"), _recorder("hook_b")
log_component = _recorder("log_component", HookType.COMPONENT_POST_SUCCESS)
log_request = _recorder("log_request", HookType.GENERATION_PRE_CALL)
log_response = _recorder("log_response", HookType.GENERATION_POST_CALL)
content_guard = _recorder("content_guard")
content_policy = _recorder("content_policy")
feature_flag_hook = _recorder("feature_flag_hook")
trace_session = _recorder("trace_session", HookType.SESSION_POST_INIT, PluginMode.AUDIT)
trace_component = _recorder("trace_component", HookType.COMPONENT_POST_SUCCESS, PluginMode.AUDIT)
trace_cleanup = _recorder("trace_cleanup", HookType.SESSION_CLEANUP, PluginMode.AUDIT)
trace_session_start, trace_component_success, trace_session_end = (
    trace_session, trace_component, trace_cleanup
)
observability_set = observability = PluginSet(
    "observability", [trace_session, trace_component, trace_cleanup]
)
nested_set = PluginSet("nested", [_recorder("nested")])
"""


def page_blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (PAGES / name).read_text(), re.S)


@needs_docs
def test_page_copies_are_verbatim() -> None:
    for page in ("concepts_plugins.md", "how-to_debug-with-plugins.md"):
        assert (PAGES / page).read_text() == (DOCS / page).read_text(), page


def run_block(source: str, namespace: dict[str, Any]) -> Any:
    """Run one block as a notebook cell would (top-level `await` / `async with` allowed).

    A block that is the body of a hook (it `return`s) runs as one, on a
    `generation_pre_call` payload; its return value is returned.
    """
    try:
        code = compile(source, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        if "outside function" not in str(exc):
            raise
        body = "".join(f"    {line}\n" for line in source.splitlines())
        exec(f"async def _hook_body(payload, ctx):\n{body}", namespace)
        payload = GenerationPreCallPayload(model_options={"max_tokens": 4096})
        return asyncio.run(namespace["_hook_body"](payload, None))
    result = eval(code, namespace)
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return None


@pytest.fixture
def on_loopback(monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer) -> LoopbackServer:
    monkeypatch.setenv("OLLAMA_HOST", loopback.host_port)
    return loopback


def test_plugins_page_blocks_run_in_order(
    on_loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    blocks = page_blocks("concepts_plugins.md")
    assert len(blocks) == 44
    namespace: dict[str, Any] = {"__name__": "docs"}
    run_block(PRELUDE, namespace)
    with caplog.at_level(logging.INFO):
        for index, block in enumerate(blocks):
            try:
                result = run_block(block, namespace)
            except Exception as exc:
                raise AssertionError(f"block {index} failed:\n{block}") from exc
            if index == 4:  # a hook body returning a modification
                assert result.modified_payload.model_options == {"max_tokens": 256}
    fired = namespace["FIRED"]
    text = caplog.text
    # the quickstart logged its summary before the call and the result after it
    assert "[log_generation] About to call LLM" in text
    assert "Result: Echo: What is the capital of France?" in text
    # session-, with-block- and global scopes fired where the page says
    assert "log_component" in fired and "enforce_content_policy" in fired
    assert {"log_request", "log_response", "content_guard", "content-guard"} <= set(fired)
    assert {"trace_session", "trace_component", "trace_cleanup"} <= set(fired)
    assert {"content_policy", "feature_flag_hook"} <= set(fired)
    # the page's own unit test of a plugin passes
    asyncio.run(namespace["test_blocks_long_description"]())
    # the API-reference block imports every public name
    for name in ("PluginResult", "PluginViolationError", "is_internal_tool", "plugin_scope"):
        assert name in namespace


def test_plugins_page_policy_examples_behave(on_loopback: LoopbackServer) -> None:
    """The blocking, modifying and tool examples do what the page says when they fire."""
    from mellea import start_session
    from mellea.plugins import PluginViolationError, register

    blocks = page_blocks("concepts_plugins.md")
    namespace: dict[str, Any] = {"__name__": "docs"}
    run_block(PRELUDE, namespace)
    for index in (2, 3, 21, 31):  # token budget, cap max tokens, content policy, calculator
        run_block(blocks[index], namespace)
    register(namespace["enforce_content_policy"])
    with start_session() as m, pytest.raises(PluginViolationError) as info:
        m.instruct("Give me financial advice on stocks")
    assert info.value.code == "CONTENT_001" and info.value.reason == "Restricted topic"
    register(namespace["cap_max_tokens"])
    on_loopback.configure(tokens=400)
    # `max_tokens` is the OpenAI API's own name for the option (Ollama's is num_predict)
    url = on_loopback.openai_base_url
    with start_session("openai", model_id="m", base_url=url, api_key="k") as m:
        out = m.instruct("count", model_options={"max_tokens": 1000}, strategy=None)
    assert len(str(out).split()) == 256  # capped by the plugin
    register(namespace["enforce_token_budget"])
    with start_session() as m, pytest.raises(PluginViolationError, match="exceeds budget"):
        m.instruct("x" * 5000, strategy=None)


def test_debug_page_blocks_register_the_builtin_plugins(
    on_loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    from mellea import start_session

    blocks = page_blocks("how-to_debug-with-plugins.md")
    namespace: dict[str, Any] = {"__name__": "docs"}
    for block in blocks[:4]:
        run_block(block, namespace)
    assert len(hooks.active) == 8  # generation, validation and sampling: 8 hook points
    with caplog.at_level(logging.INFO, logger="mellea.plugins.builtin_debug"):
        with start_session() as m:
            m.instruct("Write a thank you note", requirements=["Start with a greeting"])
        run_block(blocks[4], namespace)  # the logging-level block
    for head in ("[SAMPLING-START]", "[GEN-PRE-CALL", "[GEN-POST-CALL", "[VALIDATION-PRE-CHECK]",
                 "[VALIDATION-POST-CHECK]", "[SAMPLING-ITER 1]", "[SAMPLING-END]"):  # fmt: skip
        assert head in caplog.text
