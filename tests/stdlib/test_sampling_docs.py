# ruff: noqa: RUF001 - the docs page writes a multiplication sign
"""The inference-time-scaling page's programs, run unchanged against the loopback server.

`start_session()` (and `OllamaModelBackend()`) find the loopback through OLLAMA_HOST.
"""

from __future__ import annotations

import pytest

from tests.servers import LoopbackServer, Reply


def run_doc(code: str, monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    exec(compile(code, "<docs example>", "exec", dont_inherit=True), {"__name__": "__main__"})


def prompts(srv: LoopbackServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in srv.stats().for_path("/api/chat")]


REJECTION = """
from mellea import start_session
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RejectionSamplingStrategy

m = start_session()
result = m.instruct(
    "Write a haiku about autumn.",
    requirements=[
        req(
            "The response must be exactly three lines.",
            validation_fn=simple_validate(lambda x: len(x.strip().splitlines()) == 3),
        ),
    ],
    strategy=RejectionSamplingStrategy(loop_budget=5),
    return_sampling_results=True,
)

if result.success:
    print(str(result.result))
else:
    print("All attempts failed. Best effort:")
    print(str(result.sample_generations[0].value))
"""


def test_rejection_sampling(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="leaves fall"), Reply(text="red leaves\ncold wind\nquiet"))
    run_doc(REJECTION, monkeypatch, loopback)
    assert capsys.readouterr().out == "red leaves\ncold wind\nquiet\n"
    assert len(prompts(loopback)) == 2


VALIDATION_FEEDBACK = """
import json
from mellea import start_session
from mellea.stdlib.requirements import ValidationResult, req
from mellea.stdlib.sampling import RejectionSamplingStrategy

def check_valid_json(ctx) -> ValidationResult:
    output = ctx.last_output()
    try:
        json.loads(str(output.value))
        return ValidationResult(True, reason="Valid JSON.")
    except json.JSONDecodeError as e:
        return ValidationResult(False, reason=f"Invalid JSON: {e}")

m = start_session()
result = m.instruct(
    "Return a JSON object with keys 'name' and 'score'.",
    requirements=[req("Output must be valid JSON.", validation_fn=check_valid_json)],
    strategy=RejectionSamplingStrategy(loop_budget=3),
    return_sampling_results=True,
)

if result.success:
    data = json.loads(str(result.result))
    print(data)
"""


def test_validation_feedback(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="name: Ada"), Reply(text='{"name": "Ada", "score": 9}'))
    run_doc(VALIDATION_FEEDBACK, monkeypatch, loopback)
    assert capsys.readouterr().out == "{'name': 'Ada', 'score': 9}\n"


SOFAI = """
import mellea
from mellea.backends.ollama import OllamaModelBackend
from mellea.stdlib.context import ChatContext
from mellea.stdlib.requirements import ValidationResult, req
from mellea.stdlib.sampling import SOFAISamplingStrategy

def check_coloring(ctx) -> ValidationResult:
    \"\"\"Validate a graph coloring solution.\"\"\"
    output = ctx.last_output()
    # ... your validation logic ...
    if errors:
        return ValidationResult(False, reason=" | ".join(errors))
    return ValidationResult(True, reason="Valid coloring.")

requirements = [req("The coloring must be valid.", validation_fn=check_coloring)]

s1_backend = OllamaModelBackend(model_id="phi4-mini:latest")
s2_backend = OllamaModelBackend(model_id="llama3.1:8b")

sofai = SOFAISamplingStrategy(
    s1_solver_backend=s1_backend,
    s2_solver_backend=s2_backend,
    s2_solver_mode="fresh_start",
    loop_budget=3,
)

m = mellea.MelleaSession(backend=s1_backend, ctx=ChatContext())
result = m.instruct(
    "Color the graph nodes so no two adjacent nodes share a color: A-B, B-C, A-C.",
    requirements=requirements,
    strategy=sofai,
    return_sampling_results=True,
)

print(f"Success: {result.success}")
print(f"Attempts: {len(result.sample_generations)}")
"""


def test_sofai_page_example(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The page's validator elides its logic (`errors` is undefined), so it raises: a
    # validator that raises fails its requirement, S1 spends its 3 attempts, S2 gets one.
    run_doc(SOFAI, monkeypatch, loopback)
    assert capsys.readouterr().out == "Success: False\nAttempts: 4\n"
    models = [r.body["model"] for r in loopback.stats().for_path("/api/chat")]
    assert models == ["phi4-mini:latest"] * 3 + ["llama3.1:8b"]
    assert "validation raised NameError" in prompts(loopback)[1]  # S1's repair turn says why


MAJORITY = """
from mellea import start_session
from mellea.stdlib.sampling.majority_voting import MajorityVotingStrategyForMath

strategy = MajorityVotingStrategyForMath(number_of_samples=5)

m = start_session()
result = m.instruct(
    "What is 17 × 23?",
    strategy=strategy,
    return_sampling_results=True,
)
print(str(result.result))
"""


def test_majority_voting(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="17 × 23 = 391"), Reply(text="391"), Reply(text="401"),
                     Reply(text="The product is \\\\boxed{391}"), Reply(text="391.0"))  # fmt: skip
    run_doc(MAJORITY, monkeypatch, loopback)
    assert capsys.readouterr().out.strip() in {
        "17 × 23 = 391",
        "391",
        "The product is \\\\boxed{391}",
        "391.0",
    }


REPAIR_TEMPLATE = """
from mellea import start_session
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import RepairTemplateStrategy

m = start_session()
result = m.instruct(
    "List three fruits, one per line.",
    requirements=[
        req(
            "Must contain exactly three lines.",
            validation_fn=simple_validate(
                lambda x: (len(x.strip().splitlines()) == 3, "Not exactly three lines.")
            ),
        )
    ],
    strategy=RepairTemplateStrategy(loop_budget=3),
)
print(str(result))
"""

MULTI_TURN = """
from mellea import start_session
from mellea.stdlib.context import ChatContext
from mellea.stdlib.requirements import req, simple_validate
from mellea.stdlib.sampling import MultiTurnStrategy

m = start_session(ctx=ChatContext())
result = m.instruct(
    "List three fruits, one per line.",
    requirements=[
        req(
            "Must contain exactly three lines.",
            validation_fn=simple_validate(
                lambda x: (len(x.strip().splitlines()) == 3, "Not exactly three lines.")
            ),
        )
    ],
    strategy=MultiTurnStrategy(loop_budget=3),
)
print(str(result))
"""


@pytest.mark.parametrize(
    "program", [REPAIR_TEMPLATE, MULTI_TURN], ids=["repair_template", "multi_turn"]
)
def test_repair_strategies(
    program: str,
    loopback: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    loopback.enqueue(Reply(text="apple, pear"), Reply(text="apple\npear\nplum"))
    run_doc(program, monkeypatch, loopback)
    assert capsys.readouterr().out == "apple\npear\nplum\n"
    assert "Not exactly three lines." in prompts(loopback)[1]


CUSTOM = """
from mellea.stdlib.sampling import BaseSamplingStrategy
from mellea.core import Component, Context, ModelOutputThunk, ValidationResult
from mellea.stdlib.requirements import Requirement


class MyStrategy(BaseSamplingStrategy):
    @staticmethod
    def repair(old_ctx, new_ctx, past_actions, past_results, past_val):
        # Return the original action and context unchanged — equivalent to
        # plain rejection sampling.
        return past_actions[-1], old_ctx

    @staticmethod
    def select_from_failure(sampled_actions, sampled_results, sampled_val):
        # Return the last attempt as the fallback.
        return len(sampled_results) - 1

from mellea import start_session

m = start_session()
result = m.instruct(
    "Describe a tree in one sentence.",
    strategy=MyStrategy(loop_budget=2),
)
print(str(result))
"""


def test_custom_strategy(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply(text="A tall oak."))
    run_doc(CUSTOM, monkeypatch, loopback)
    assert capsys.readouterr().out == "A tall oak.\n"
