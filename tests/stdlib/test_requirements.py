"""Requirements and validation (`req`, `check`, `simple_validate`, LLM-as-a-judge, validate)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import Context, ModelOutputThunk, Requirement, ValidationResult
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.requirements import (
    check,
    default_output_to_bool,
    req,
    reqify,
    simple_validate,
)
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

JUDGE = "Decide whether"  # in every judge prompt


def session(srv: LoopbackServer, ctx: Context | None = None) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url), ctx)


def last_user_messages(srv: LoopbackServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in srv.stats().for_path("/api/chat")]


# ----- constructors ------------------------------------------------------------------------


def test_req_check_and_reqify() -> None:
    r = req("Be brief.")
    c = check("No elephants.")
    assert isinstance(r, Requirement) and not r.check_only and r.description == "Be brief."
    assert c.check_only and c.validation_fn is None
    assert reqify("x").description == "x" and reqify(r) is r
    with pytest.raises(TypeError):
        reqify(3)  # type: ignore[arg-type]


def test_check_only_requirements_stay_out_of_the_prompt(loopback: LoopbackServer) -> None:
    m = session(loopback)
    ok = simple_validate(lambda _: True)
    m.instruct("Write.", requirements=[req("Be brief.", ok), check("No elephants.", ok)])
    (prompt,) = last_user_messages(loopback)
    assert "Be brief." in prompt and "elephant" not in prompt


def test_simple_validate_bool_tuple_and_reason() -> None:
    ctx = SimpleContext().add(ModelOutputThunk("hello world"))
    assert simple_validate(lambda x: x.startswith("hello"))(ctx).result
    verdict = simple_validate(lambda x: len(x) < 3, reason="too long")(ctx)
    assert not verdict and verdict.reason == "too long" and verdict.context is ctx
    verdict = simple_validate(lambda x: (False, f"{len(x)} chars"))(ctx)
    assert not verdict and verdict.reason == "11 chars"
    with pytest.raises(TypeError):
        simple_validate(lambda x: "yes")(ctx)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Yes.", True),
        ("yes", True),
        ("YES - the output has a salutation.", True),
        ("**Yes**, it does.", True),
        ('{"answer": "yes"}', True),
        ("The requirement is met: true", True),
        ("No.", False),
        ("No, although one could say yes.", False),
        ("<think>yes, probably... wait</think>\nNo, it does not.", False),
        ("It fails the requirement.", False),
        ("I cannot tell.", False),
        ("", False),
        ("Eyes everywhere; nothing else", False),  # "eyes" is not "yes"
    ],
)
def test_judge_answers_are_parsed_robustly(answer: str, expected: bool) -> None:
    assert default_output_to_bool(answer) is expected
    assert default_output_to_bool(ModelOutputThunk(answer)) is expected


# ----- m.validate --------------------------------------------------------------------------


def test_validate_last_output_with_a_judge(loopback: LoopbackServer) -> None:
    m = session(loopback)
    m.instruct("Write a greeting.")
    loopback.enqueue(Reply(text="Yes, it greets.", match=JUDGE))
    (verdict,) = m.validate(["Has a salutation."])
    assert verdict.result and verdict.reason == "Yes, it greets."
    assert verdict.thunk is not None and verdict.thunk.value == "Yes, it greets."
    judge_prompt = last_user_messages(loopback)[-1]
    # The judge is asked about this requirement and this output.
    assert "Has a salutation." in judge_prompt and "Echo: Write a greeting." in judge_prompt


def test_validate_a_given_output_and_the_output_to_bool_hook(loopback: LoopbackServer) -> None:
    m = session(loopback)
    loopback.enqueue(Reply(text="VERDICT: ok", match=JUDGE))
    custom = Requirement("Is fine.", output_to_bool=lambda out: "ok" in str(out))
    (verdict,) = m.validate(custom, output="some text")
    assert verdict.result
    assert "some text" in last_user_messages(loopback)[-1]


async def test_validate_runs_requirements_concurrently_in_order(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.3)
    m = session(loopback)
    await (await m.ainstruct("Write.")).avalue()
    for name, answer in [("Alpha", "yes"), ("Beta", "no"), ("Gamma", "yes")]:
        loopback.enqueue(Reply(text=answer, match=f"Requirement: {name}"))

    def slow(ctx: Context) -> bool:
        time.sleep(0.3)  # blocking user code: runs on a worker thread
        return True

    reqs: list[Requirement | str] = ["Alpha", "Beta", "Gamma"]
    reqs += [Requirement(f"slow {i}", validation_fn=slow) for i in range(4)]
    t0 = time.perf_counter()
    verdicts = await m.avalidate(reqs)
    elapsed = time.perf_counter() - t0
    assert [v.result for v in verdicts] == [True, False, True, True, True, True, True]
    assert elapsed < 0.9, elapsed  # ~0.3 s: 3 judges and 4 blocking checks overlap


async def test_validate_waits_for_an_uncomputed_output(loopback: LoopbackServer) -> None:
    loopback.configure(ttft=0.2)
    m = session(loopback)
    mot = await m.ainstruct("Write.")
    assert not mot.is_computed()
    (verdict,) = await m.avalidate(req("echoes", simple_validate(lambda x: x.startswith("Echo"))))
    assert verdict.result and mot.is_computed()


async def test_async_and_sync_validation_functions(loopback: LoopbackServer) -> None:
    m = session(loopback)
    await m.ainstruct("Write.", await_result=True)
    loop_threads: set[int] = set()

    async def async_fn(ctx: Context) -> ValidationResult:
        loop_threads.add(threading.get_ident())
        await asyncio.sleep(0.01)
        out = ctx.last_output()
        return ValidationResult(out is not None and "Echo" in (out.value or ""), score=0.5)

    def sync_fn(ctx: Context) -> tuple[bool, str]:
        return False, f"worker {threading.current_thread().name}"

    a, s = await m.avalidate([Requirement("a", async_fn), Requirement("s", sync_fn)])
    assert a.result and a.score == 0.5 and a.context is not None
    assert not s.result and s.reason is not None and "mellea-validate" in s.reason


def test_a_raising_validator_fails_its_requirement(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    m = session(loopback)
    m.instruct("Write.")
    (verdict,) = m.validate(req("json", simple_validate(lambda x: __import__("json").loads(x))))
    assert not verdict.result and verdict.reason is not None
    assert "JSONDecodeError" in verdict.reason and "validation of 'json' raised" in caplog.text


def test_a_sync_validator_may_call_sync_mellea(loopback: LoopbackServer) -> None:
    m = session(loopback)
    helper = session(loopback)

    def asks_the_model(ctx: Context) -> bool:
        # Blocking mellea call from inside a validator: must not deadlock the I/O loop.
        return helper.instruct("inner check").value == "Echo: inner check"

    mot = m.instruct("Write.", requirements=[req("inner", asks_the_model)])
    assert mot.sampling_result is not None and mot.sampling_result.success


def test_custom_requirement_validate_override(loopback: LoopbackServer) -> None:
    class LengthReq(Requirement):
        async def validate(self, backend, ctx, *, format=None, model_options=None):  # type: ignore[no-untyped-def,override]
            out = ctx.last_output()
            return ValidationResult(len(out.value or "") < 5, reason="length")

    m = session(loopback)
    m.instruct("Write a long text.")
    (verdict,) = m.validate([LengthReq("short")])
    assert not verdict.result and verdict.reason == "length"
    assert loopback.stats().total_requests == 1  # no judge call


def test_user_variables_do_not_mutate_shared_requirements(loopback: LoopbackServer) -> None:
    shared = req("Address {{name}}.", simple_validate(lambda _: True))
    a = Instruction("Hi {{name}}", requirements=[shared], user_variables={"name": "Ann"})
    b = Instruction("Hi {{name}}", requirements=[shared], user_variables={"name": "Bob"})
    assert a.requirements[0].description == "Address Ann."
    assert b.requirements[0].description == "Address Bob."
    assert shared.description == "Address {{name}}."
