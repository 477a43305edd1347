"""The playground's event stream (`POST /playground/chat`): attempts as they stream, their
validations and repairs, the selected answer, usage and timings — for a loop running
live behind an async `serve()` and for one a sync `serve()` already finished."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from mellea.serve import ChatMessage
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RepairTemplateStrategy
from tests.servers import LoopbackServer, Reply

from .conftest import loopback_session


def banana() -> Any:
    return req(
        "Mention the fruit.",
        validation_fn=simple_validate(lambda x: ("BANANA" in x, "the word BANANA is missing")),
    )


def events(url: str, content: str = "Write a dessert.", **extra: Any) -> list[dict[str, Any]]:
    body = {"messages": [{"role": "user", "content": content}], "stream": True, **extra}
    with httpx.stream("POST", f"{url}/playground/chat", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response.iter_lines() if line]


def sampling_program(srv: LoopbackServer, *, sync: bool) -> Any:
    session = loopback_session(srv)
    strategy = RepairTemplateStrategy(loop_budget=3)

    async def serve_async(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        return await session.ainstruct(
            input[-1].get_text_content(), requirements=[banana()], strategy=strategy,
            model_options=model_options,
        )  # fmt: skip

    def serve_sync(input: list[ChatMessage], requirements: Any, model_options: Any) -> Any:
        return session.instruct(
            input[-1].get_text_content(), requirements=[banana()], strategy=strategy,
            model_options=model_options,
        )  # fmt: skip

    return serve_sync if sync else serve_async


def check_two_attempts(got: list[dict[str, Any]]) -> None:
    kinds = [e["type"] for e in got]
    assert kinds[0] == "start" and kinds[-1] == "done"
    text = {i: "".join(e["text"] for e in got if e.get("index") == i and e["type"] == "attempt_delta") for i in (0, 1)}  # fmt: skip
    assert text == {0: "a first draft", 1: "BANANA split"}
    validations = [e for e in got if e["type"] == "validation"]
    assert [v["passed"] for v in validations] == [False, True]
    first = validations[0]["results"]
    assert first == [{"requirement": "Mention the fruit.", "passed": False,
                      "reason": "the word BANANA is missing", "score": None}]  # fmt: skip
    assert validations[0]["repair"] is None
    assert "the word BANANA is missing" in validations[1]["repair"]  # the repair it was given
    answer = "".join(e["text"] for e in got if e["type"] == "answer_delta")
    done = got[-1]
    assert answer == done["answer"] == "BANANA split"
    assert done["selected"] == 1 and done["success"] is True and done["attempts"] == 2
    assert done["usage"]["total_tokens"] > 0 and done["finish_reason"] == "stop"
    assert done["elapsed_ms"] >= done["first_token_ms"] > 0


def test_live_attempts_of_an_async_program(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.configure(token_delay=0.04)
    loopback.enqueue(Reply(text="a first draft"), Reply(text="BANANA split"))
    got = events(serve_program(sampling_program(loopback, sync=False)))
    check_two_attempts(got)
    kinds = [e["type"] for e in got]
    # live: attempt 0 streamed token by token and ended before attempt 1 started
    assert kinds.count("attempt_delta") >= 5
    second = got.index({"type": "attempt", "index": 1})
    assert kinds.index("attempt_end") < second
    # ... and its validation (with the failure's reason) came as soon as it was done (with
    # the start of attempt 1, the loop's very next step), long before the loop finished
    first_of_second = next(
        i for i, e in enumerate(got) if e.get("index") == 1 and e["type"] == "attempt_delta"
    )
    assert kinds.index("validation") < first_of_second
    # no rejected text ever reached the answer stream
    assert all("draft" not in e.get("text", "") for e in got if e["type"] == "answer_delta")


def test_attempts_of_a_finished_loop(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    loopback.enqueue(Reply(text="a first draft"), Reply(text="BANANA split"))
    check_two_attempts(events(serve_program(sampling_program(loopback, sync=True))))


def test_plain_generation_and_requirements_field(
    loopback: LoopbackServer, serve_program: Callable[..., str]
) -> None:
    from .test_openai_sdk import echo_program

    seen: list[dict[str, Any]] = []
    got = events(serve_program(echo_program(loopback, seen)), "hi", requirements=["Be short."])
    assert [e["type"] for e in got] == ["start", "answer_delta", "done"]
    assert got[-1]["answer"] == "Echo: hi" and got[-1]["selected"] is None
    assert seen[0]["requirements"] == ["Be short."]


def test_errors_are_events(serve_program: Callable[..., str]) -> None:
    def serve(input: Any, requirements: Any, model_options: Any) -> Any:
        raise ValueError("no thanks")

    url = serve_program(serve)
    body = {"messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(f"{url}/playground/chat", json=body)
    assert response.status_code == 500  # before the stream started: a plain HTTP error
    assert response.json()["error"]["message"] == "ValueError: no thanks"


async def test_sampled_thunk_avalidated(loopback: LoopbackServer) -> None:
    """The library hook the playground reads: each attempt's validation as soon as it is done."""
    loopback.enqueue(Reply(text="a first draft"), Reply(text="BANANA split", ttft=0.3))
    session = loopback_session(loopback)
    mot = await session.ainstruct(
        "Write a dessert.", requirements=[banana()], strategy=RepairTemplateStrategy(loop_budget=3)
    )
    attempts = mot.aiter_attempts()
    first = await anext(attempts)
    checked = await mot.avalidated(first)
    assert checked is not None and checked.mot is first and not mot.is_computed()  # live
    assert checked.validations is not None
    [(requirement, result)] = checked.validations
    assert requirement.description == "Mention the fruit." and not result
    second = await anext(attempts)
    again = await mot.avalidated(second)
    assert again is not None and again.validations is not None and again.validations[0][1]
    assert "BANANA is missing" in again.action.repair_string  # the repair it was given
    assert await mot.avalue() == "BANANA split"
    await attempts.aclose()


async def test_avalidated_is_none_for_a_sample_cancelled_unvalidated(
    loopback: LoopbackServer,
) -> None:
    from mellea.stdlib.sampling import BestOfNSamplingStrategy

    loopback.enqueue(Reply(text="BANANA fast"), Reply(text="slow", ttft=3.0))
    session = loopback_session(loopback)
    mot = await session.ainstruct(
        "Dessert?", requirements=[banana()], strategy=BestOfNSamplingStrategy(n=2)
    )
    assert await mot.avalue() == "BANANA fast"
    slow, fast = sorted(mot.attempts, key=lambda a: a.is_computed())  # either may be first
    assert slow.is_cancelled() and fast.value == "BANANA fast"
    assert await mot.avalidated(slow) is None
    checked = await mot.avalidated(fast)
    assert checked is not None and checked.validations is not None
