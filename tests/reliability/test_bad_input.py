"""Bad input is a clear `InvalidOptionError` naming the problem, before any request —
never a silent wrong result; and output that does not parse as `format=` says why."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.core.base import CBlock
from mellea.core.errors import ComponentParseError, InvalidOptionError
from tests.servers import LoopbackServer, Reply

from ._harness import make_backend
from .conftest import MakeHarness

pytestmark = pytest.mark.timeout(60)


class Person(BaseModel):
    name: str
    age: int


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"@@@max_tokens@@@": 5}, "unknown ModelOption key"),
        ({ModelOption.MAX_NEW_TOKENS: "ten"}, "must be a positive int"),
        ({ModelOption.TEMPERATURE: -1}, "must be a number >= 0"),
        ({ModelOption.TIMEOUT: 0}, "seconds > 0"),
        ({ModelOption.STREAM: "yes"}, "must be a bool"),
        ({ModelOption.STOP_SEQUENCES: [""]}, "non-empty strings"),
        ({ModelOption.SEED: {1, 2}}, "must be an int"),
    ],
)
async def test_bad_model_options(
    make: MakeHarness, loopback: LoopbackServer, options: dict[str, Any], message: str
) -> None:
    h = make(loopback)
    out = await h.call(**options)
    err = out.expect(InvalidOptionError)
    assert message in str(err)
    assert loopback.stats().total_requests == 0
    await h.assert_no_leaks()


async def test_values_json_cannot_carry(make: MakeHarness, loopback: LoopbackServer) -> None:
    h = make(loopback)
    out = await h.call(top_k={1, 2})  # a set is no JSON value
    err = out.expect(InvalidOptionError)
    assert "cannot be sent as JSON" in str(err) and loopback.stats().total_requests == 0
    await h.assert_no_leaks()


def test_unknown_ollama_options_are_sent_with_a_suggestion(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The docs: keys mellea does not know go to the API unchanged. Ollama ignores options
    # it does not know, so the likely typo is logged (once per name), not raised.
    with caplog.at_level(logging.WARNING, logger="mellea"):
        OllamaModelBackend("m", base_url=loopback.url, model_options={"temprature": 0.1})
        backend = make_backend("ollama", loopback.url)
        from mellea.stdlib.session import MelleaSession

        m = MelleaSession(backend)
        m.instruct("x", model_options={"max_new_tokens": 3})
        m.instruct("x", model_options={"top_k": 3, "num_ctx": 512, "keep_alive": "1m"})  # real
    text = caplog.text
    assert "did you mean temperature" in text
    assert "did you mean ModelOption.MAX_NEW_TOKENS" in text
    assert "top_k" not in text and "num_ctx" not in text
    bodies = [r.body for r in loopback.stats().for_path("/api/chat")]
    assert bodies[0]["options"] == {"max_new_tokens": 3}
    assert bodies[1]["keep_alive"] == "1m" and bodies[1]["options"] == {"top_k": 3, "num_ctx": 512}


async def test_empty_prompt(make: MakeHarness, loopback: LoopbackServer) -> None:
    h = make(loopback)
    m = h.session
    with pytest.raises(InvalidOptionError, match="non-empty"):
        m.instruct("")
    with pytest.raises(InvalidOptionError, match="prompt is empty"):
        m.chat("")
    with pytest.raises(InvalidOptionError, match="prompt is empty"):
        await (await m.aact(CBlock(""))).avalue()
    assert loopback.stats().total_requests == 0
    await h.assert_no_leaks()


def test_format_must_be_a_pydantic_model(loopback: LoopbackServer) -> None:
    from mellea.stdlib.session import MelleaSession

    m = MelleaSession(make_backend("openai", loopback.url))
    with pytest.raises(InvalidOptionError, match="pydantic BaseModel subclass"):
        m.instruct("x", format=dict)  # type: ignore[arg-type]
    assert loopback.stats().total_requests == 0


async def test_output_that_is_not_json_for_format(
    make: MakeHarness, loopback: LoopbackServer
) -> None:
    # Not a thunk failure: the text is kept, and the parse failure names the problem.
    loopback.enqueue(Reply(text="not json at all", times=-1))
    h = make(loopback)
    m = h.session
    mot = m.instruct("x", format=Person, strategy=None)
    assert mot.value == "not json at all" and mot.parsed_repr is None
    error = mot.generation.extra["parse_error"]
    assert isinstance(error, ComponentParseError)
    assert "does not match Person" in str(error) and "Invalid JSON" in str(error)
    await h.assert_no_leaks()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"max_concurrency": 0}, "max_concurrency must be >= 1"),
        ({"max_concurrency": 2.5}, "max_concurrency must be an int"),
        ({"retry": 3}, "retry must be a RetryPolicy"),
    ],
)
def test_bad_backend_arguments(kwargs: dict[str, Any], message: str) -> None:
    for kind in ("ollama", "openai"):
        with pytest.raises(ValueError, match=message):
            make_backend(kind, "http://127.0.0.1:9", **kwargs)  # type: ignore[arg-type]


def test_bad_retry_policy() -> None:
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="backoff_initial"):
        RetryPolicy(backoff_initial=-0.5)
    assert httpx.Timeout(1.0).read == 1.0  # (httpx.Timeout is accepted as-is)
