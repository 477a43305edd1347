"""The ready-made requirements: Python programs, plots, Markdown, groundedness, judges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mellea.backends.ollama import OllamaModelBackend
from mellea.core import ModelOutputThunk, ModelToolCall
from mellea.core.message import Document
from mellea.stdlib.context import ChatContext, SimpleContext
from mellea.stdlib.requirements import (
    ALoraRequirement,
    GroundednessRequirement,
    ImportRestrictions,
    LLMaJRequirement,
    MatplotlibHeadlessBackend,
    NoImportRestrictions,
    OutputSizeLimit,
    PlotDependenciesAvailable,
    PlotFileSaved,
    PythonCodeExtraction,
    PythonExecutionReq,
    PythonSyntaxValid,
    as_markdown_list,
    default_output_to_bool,
    is_markdown_list,
    is_markdown_table,
    python_code_generation_requirements,
    python_plotting_requirements,
    requirement_check_to_bool,
)
from mellea.stdlib.sampling import RepairTemplateStrategy
from mellea.stdlib.session import MelleaSession
from tests.servers import LoopbackServer, Reply

GOOD = "Here you go:\n```python\nimport math\nprint(math.factorial(5))\n```\nDone."
BROKEN = "```python\nprint(1 / 0)\n```"


def ctx(text: str) -> Any:
    return SimpleContext().add(ModelOutputThunk(text))


def check(requirement: Any, text: str) -> Any:
    return requirement.validation_fn(ctx(text))


def test_code_is_found_in_fences_tool_calls_or_plain_code() -> None:
    assert check(PythonCodeExtraction(), GOOD).reason == "import math\nprint(math.factorial(5))"
    several = "```python\nx = 1\n```\ntext\n```python\ndef f():\n    return 2\nprint(f())\n```"
    assert check(PythonCodeExtraction(), several).reason.startswith("def f()")
    assert check(PythonCodeExtraction(), "for i in range(3):\n    print(i)").result
    missing = check(PythonCodeExtraction(), "I would use a loop.")
    assert not missing.result and "```python" in missing.reason
    mot = ModelOutputThunk("")
    mot.tool_calls = {"python": ModelToolCall("python", None, {"code": "print(7)"})}
    assert PythonCodeExtraction().validation_fn(SimpleContext().add(mot)).reason == "print(7)"
    assert all(r.check_only for r in python_code_generation_requirements())


def test_syntax_and_import_checks() -> None:
    assert check(PythonSyntaxValid(), GOOD).result
    bad = check(PythonSyntaxValid(), "```python\ndef f(:\n```")
    assert not bad.result and "SyntaxError (line 1)" in bad.reason
    assert check(ImportRestrictions(["math"]), GOOD).result
    refused = check(ImportRestrictions(["json"]), GOOD)
    assert not refused.result and "'math' is not in the allowed imports" in refused.reason
    assert (
        ImportRestrictions(["math", "json"]).description
        == "Only imports from [math, json] are used."
    )
    assert check(NoImportRestrictions(), "anything").result


def test_execution_requirement_runs_the_code_in_a_sandboxed_tier() -> None:
    static = check(PythonExecutionReq(), GOOD)  # the default tier only parses
    assert static.result and "does not run code" in static.reason
    local = PythonExecutionReq("local", timeout=5)
    assert check(local, GOOD).result and check(local, GOOD).reason == "120\n"
    failed = check(local, BROKEN)
    assert not failed.result and "ZeroDivisionError" in failed.reason
    slow = check(PythonExecutionReq("local", timeout=1), "```python\nwhile True: pass\n```")
    assert not slow.result and "time limit" in slow.reason
    chatty = check(
        PythonExecutionReq("local", max_output_chars=10), "```python\nprint('x' * 50)\n```"
    )
    assert not chatty.result and "the limit is 10" in chatty.reason
    with pytest.raises(ValueError, match="allow_unsafe_execution"):
        PythonExecutionReq("local_unsafe")
    assert PythonExecutionReq(use_sandbox=True).execution_tier == "docker"
    size = OutputSizeLimit(10, execution_tier="local")
    assert not check(size, "```python\nprint('y' * 50)\n```").result
    assert check(size, "```python\nprint('ok')\n```").result
    assert check(OutputSizeLimit(10), "```python\nprint('y' * 50)\n```").result  # static


def test_plotting_requirements(tmp_path: Path) -> None:
    out = str(tmp_path / "plot.png")
    code = (
        "```python\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        f"plt.plot([1, 2], [3, 4])\nplt.savefig({out!r})\n```"
    )
    assert check(MatplotlibHeadlessBackend(), code).result
    shows = check(
        MatplotlibHeadlessBackend(), "```python\nimport matplotlib.pyplot as plt\nplt.show()\n```"
    )
    assert not shows.result and "matplotlib.use('Agg')" in shows.reason
    assert not check(
        MatplotlibHeadlessBackend(), "```python\nimport matplotlib\nmatplotlib.use('TkAgg')\n```"
    ).result
    assert check(PlotFileSaved(out), code).result
    assert not check(PlotFileSaved("/elsewhere.png"), code).result
    with pytest.raises(ValueError):
        PlotFileSaved("  ")
    reqs = python_plotting_requirements(out)
    assert len(reqs) == 7
    deps = check(PlotDependenciesAvailable(), code)
    if deps.result:  # matplotlib installed: the whole list passes and the file exists
        assert all(r.validation_fn(ctx(code)).result for r in reqs)
        assert Path(out).exists()
    else:
        assert "pip install" in deps.reason


def test_markdown_checks() -> None:
    assert as_markdown_list(ctx("- apples\n- pears\n\n1. one\n2. two")) == [
        "apples",
        "pears",
        "one",
        "two",
    ]
    assert as_markdown_list(ctx("just text")) is None
    assert is_markdown_list.validation_fn(ctx("* a\n* b")).result
    assert not is_markdown_list.validation_fn(ctx("Intro:\n\n- a\n- b")).result
    assert is_markdown_table.validation_fn(ctx("| a | b |\n|---|---|\n| 1 | 2 |")).result
    assert not is_markdown_table.validation_fn(ctx("a | b")).result


def test_judge_verdict_readers() -> None:
    assert requirement_check_to_bool('{"requirement_likelihood": 0.8}')
    assert not requirement_check_to_bool('{"requirement_likelihood": 0.2}')
    assert requirement_check_to_bool("Yes, it does.") and not requirement_check_to_bool("No.")
    judge = LLMaJRequirement("Be polite.")
    assert judge.validation_fn is None and judge.output_to_bool is default_output_to_bool
    assert judge.use_aloras is False
    alora = ALoraRequirement("Be polite.")
    assert alora.use_aloras and alora.output_to_bool is requirement_check_to_bool


def session(srv: LoopbackServer) -> MelleaSession:
    return MelleaSession(OllamaModelBackend("m", base_url=srv.url))


def test_a_failing_program_is_repaired_with_its_traceback(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(text=BROKEN), Reply(text=GOOD))
    mot = session(loopback).instruct(
        "Print 5 factorial.",
        requirements=python_code_generation_requirements(allowed_imports=["math"]),
        strategy=RepairTemplateStrategy(loop_budget=2),
    )
    assert mot.value == GOOD and mot.sampling_result.success  # type: ignore[union-attr]
    second = loopback.stats().for_path("/api/chat")[1].body["messages"][-1]["content"]
    assert "ZeroDivisionError" in second


async def test_groundedness_is_judged_against_the_documents(loopback: LoopbackServer) -> None:
    docs = [Document("Mellea is a Python library for generative programs.", title="about")]
    backend = OllamaModelBackend("m", base_url=loopback.url)
    answer = ChatContext().add(ModelOutputThunk("Mellea is a Python library."))
    loopback.enqueue(Reply(text="yes - every claim is in the document."))
    ok = await GroundednessRequirement(docs).validate(backend, answer)
    prompt = loopback.stats().for_path("/api/chat")[0].body["messages"][-1]["content"]
    assert ok.result and ok.score == 1.0 and "about: Mellea is a Python library" in prompt
    loopback.enqueue(
        Reply(text="Partial: the release date is not supported."), Reply(text="partial")
    )
    assert not (await GroundednessRequirement(docs).validate(backend, answer)).result
    assert (
        await GroundednessRequirement(docs, allow_partial_support=True).validate(backend, answer)
    ).result
    in_context = ChatContext().add(docs[0]).add(ModelOutputThunk("Mellea is a Python library."))
    loopback.enqueue(Reply(text="no"))
    assert not (await GroundednessRequirement().validate(backend, in_context)).result
    none = await GroundednessRequirement().validate(backend, answer)
    assert not none.result and "No documents" in none.reason
