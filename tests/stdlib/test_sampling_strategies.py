"""SOFAI, budget forcing, model-friendly repair, presets and the voting hooks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mellea.backends.local import LocalBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.core.errors import InvalidOptionError
from mellea.core.requirement import ValidationResult
from mellea.stdlib.context import ChatContext
from mellea.stdlib.requirements import (
    PythonExecutionReq,
    PythonSyntaxValid,
    req,
    simple_validate,
)
from mellea.stdlib.sampling import (
    BaseMBRDSampling,
    MajorityVotingStrategyForMath,
    ModelFriendlyFeedbackFormatter,
    ModelFriendlyRepairStrategy,
    SOFAISamplingStrategy,
    python_code_generation_sampling,
)
from mellea.stdlib.sampling.budget_forcing import BudgetForcingSamplingStrategy
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply


def bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/api/chat")]


def banana() -> Any:
    return req(
        "Mention the fruit.", simple_validate(lambda x: ("BANANA" in x, "BANANA is missing"))
    )


@pytest.mark.parametrize("mode", ["fresh_start", "continue_chat", "best_attempt"])
async def test_sofai_escalates_to_the_slow_solver(mode: str) -> None:
    with LoopbackServer() as fast, LoopbackServer() as slow:
        fast.enqueue(Reply(text="apple"), Reply(text="pear"))
        slow.enqueue(Reply(text="BANANA bread"))
        s1 = OllamaModelBackend("small", base_url=fast.url)
        s2 = OllamaModelBackend("large", base_url=slow.url)
        strategy = SOFAISamplingStrategy(
            s1, s2, mode, loop_budget=2, feedback_strategy="first_error"
        )  # type: ignore[arg-type]
        m = MelleaSession(s1, ChatContext())
        t0 = time.perf_counter()
        mot = await m.ainstruct("Name a dessert.", requirements=[banana()], strategy=strategy)
        assert not mot.is_computed() and time.perf_counter() - t0 < 0.2  # lazy
        assert await mot.avalue() == "BANANA bread"
        result = mot.sampling_result
        assert result is not None and result.success and len(result.sample_generations) == 3
        assert mot.generation.usage["completion_tokens"] == 1 + 1 + 2  # every attempt summed
        _, second = bodies(fast)
        assert "BANANA is missing" in second["messages"][-1]["content"]  # S1's repair turn
        s2_messages = bodies(slow)[0]["messages"]
        if mode == "fresh_start":
            assert len(s2_messages) == 1 and "Name a dessert." in s2_messages[0]["content"]
        elif mode == "continue_chat":
            assert [msg["content"] for msg in s2_messages if msg["role"] == "assistant"] == [
                "apple",
                "pear",
            ]
        else:
            assert [msg["content"] for msg in s2_messages if msg["role"] == "assistant"] == [
                "apple"
            ]
            assert "BANANA is missing" in s2_messages[-1]["content"]


async def test_sofai_success_on_the_fast_solver_never_calls_the_slow_one() -> None:
    with LoopbackServer() as fast, LoopbackServer() as slow, LoopbackServer() as judge:
        fast.enqueue(Reply(text="BANANA split"))
        judge.enqueue(Reply(text="Yes."))
        s1 = OllamaModelBackend("small", base_url=fast.url)
        strategy = SOFAISamplingStrategy(
            s1, OllamaModelBackend("large", base_url=slow.url),
            judge_backend=OllamaModelBackend("judge", base_url=judge.url),
        )  # fmt: skip
        mot = MelleaSession(s1).instruct(
            "Dessert?", requirements=[banana(), "Be tasty."], strategy=strategy
        )
        assert mot.value == "BANANA split" and mot.sampling_result.success  # type: ignore[union-attr]
        assert bodies(slow) == [] and len(bodies(judge)) == 1  # the judge asked the judge backend


def test_sofai_rejects_unknown_modes() -> None:
    b = OllamaModelBackend("x", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="s2_solver_mode"):
        SOFAISamplingStrategy(b, b, "sideways")  # type: ignore[arg-type]


DOC_BUDGET_FORCING = """
from mellea import start_session
from mellea.stdlib.sampling.budget_forcing import BudgetForcingSamplingStrategy

strategy = BudgetForcingSamplingStrategy(
    loop_budget=3,
    think_max_tokens=1024,
    answer_max_tokens=256,
)

m = start_session()
result = m.instruct(
    "Solve: if a train travels 60 mph for 2.5 hours, how far does it travel?",
    strategy=strategy,
)
print(str(result))
"""


def test_budget_forcing_doc_example(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="150 miles."))
    monkeypatch.setenv("OLLAMA_HOST", loopback.host_port)
    exec(
        compile(DOC_BUDGET_FORCING, "<docs example>", "exec", dont_inherit=True),
        {"__name__": "__main__"},
    )
    assert capsys.readouterr().out == "150 miles.\n"
    (body,) = bodies(loopback)
    assert body["think"] is True and body["options"]["num_predict"] == 1024


async def test_budget_forcing_answers_after_the_thinking_budget_runs_out(
    loopback: LoopbackServer,
) -> None:
    loopback.enqueue(Reply(text="let me think about trains and speeds", finish_reason="length"))
    loopback.enqueue(Reply(text="150 miles"))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    strategy = BudgetForcingSamplingStrategy(
        think_max_tokens=8, answer_max_tokens=16, answer_suffix="Final answer:"
    )
    mot = await m.ainstruct("How far?", strategy=strategy)
    assert await mot.avalue() == "150 miles"
    think, answer = bodies(loopback)
    assert think["think"] is True and think["options"]["num_predict"] == 8
    assert answer["think"] is False and answer["options"]["num_predict"] == 16
    assert answer["messages"][-2]["role"] == "assistant" and answer["messages"][-2][
        "content"
    ].startswith("<think>")
    assert answer["messages"][-1]["content"] == "Final answer:"
    assert mot.generation.usage["completion_tokens"] == 7 + 2  # both phases counted


async def test_budget_forcing_needs_an_engine_with_reasoning() -> None:
    m = MelleaSession(LocalBackend())  # never loads the model: refused before any request
    mot = await m.ainstruct("How far?", strategy=BudgetForcingSamplingStrategy())
    with pytest.raises(InvalidOptionError, match="exposes no reasoning"):
        await mot.avalue()


def test_model_friendly_feedback_is_short_and_actionable() -> None:
    traceback = (
        'Traceback (most recent call last):\n  File "/tmp/mellea-sandbox-x/main.py", line 3, in <module>\n'
        "    print(1 / 0)\nZeroDivisionError: division by zero\n"
    )
    message = ModelFriendlyFeedbackFormatter.format_requirement_reason(
        PythonExecutionReq("local"), ValidationResult(False, reason=traceback)
    )
    assert message.startswith(
        "Running your code raised ZeroDivisionError: division by zero at line 3."
    )
    assert "```python" in message and "Traceback" not in message
    syntax = ModelFriendlyFeedbackFormatter.format_requirement_reason(
        PythonSyntaxValid(), ValidationResult(False, reason="SyntaxError (line 1): invalid syntax")
    )
    assert syntax.startswith("Your code has a syntax error")
    other = ModelFriendlyFeedbackFormatter.format_requirement_reason(
        banana(), ValidationResult(False, reason="no")
    )
    assert other == "Mention the fruit. — no"


def test_code_preset_repairs_with_model_friendly_feedback(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply(text="```python\nprint(1 / 0)\n```"), Reply(text="```python\nprint(2)\n```")
    )
    preset = python_code_generation_sampling(allowed_imports=["math"])
    assert isinstance(preset.strategy, ModelFriendlyRepairStrategy)
    assert preset.feedback_strategy_name == "model_friendly" and "instruct" in (
        preset.example_usage or ""
    )
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    mot = m.instruct("Print 2.", requirements=preset.requirements, strategy=preset.strategy)
    assert mot.sampling_result.success and mot.value == "```python\nprint(2)\n```"  # type: ignore[union-attr]
    repair = bodies(loopback)[1]["messages"][-1]["content"]
    assert "Running your code raised ZeroDivisionError: division by zero at line 1." in repair


class FirstWordVote(BaseMBRDSampling):
    """A custom agreement: samples agree when their first words match."""

    def compare_strings(self, ref: str, pred: str) -> float:
        return 1.0 if ref.split()[:1] == pred.split()[:1] else 0.0


async def test_compare_strings_is_the_voting_hook(loopback: LoopbackServer) -> None:
    for text in ("Paris is big", "Rome is old", "Paris, France", "Paris!"):
        loopback.enqueue(Reply(text=text))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    mot = await m.ainstruct("Capital?", strategy=FirstWordVote(number_of_samples=4))
    assert (await mot.avalue()).startswith("Paris")
    math = MajorityVotingStrategyForMath()
    assert math.compare_strings("so \\boxed{\\frac{1}{2}}", "0.5") == 1.0
    assert math.compare_strings("The answer is 391.", "17*23 = 391.0") == 1.0
    assert math.compare_strings("x = 3/4", "0.7") == 0.0
    assert MajorityVotingStrategyForMath(float_rounding=2).compare_strings("1/3", "0.33") == 1.0
    assert math.compare_strings("\\boxed{50\\%}", "0.5") == 1.0
    assert math.compare_strings("\\boxed{3.91e2}", "1,564/4") == 1.0
    assert math.compare_strings("\\boxed{10}", "\\boxed{12}") == 0.0


async def test_math_vote_stops_at_a_majority_and_cancels_the_rest(loopback: LoopbackServer) -> None:
    loopback.enqueue(*(Reply(text="= 391", ttft=0.05) for _ in range(3)))
    loopback.enqueue(*(Reply(text="= 400", ttft=3.0) for _ in range(2)))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url))
    t0 = time.perf_counter()
    mot = await m.ainstruct("17 x 23?", strategy=MajorityVotingStrategyForMath(number_of_samples=5))
    assert await mot.avalue() == "= 391" and time.perf_counter() - t0 < 2
    assert len(mot.attempts) == 5 and sum(a.is_computed() for a in mot.attempts) == 3  # type: ignore[attr-defined]
