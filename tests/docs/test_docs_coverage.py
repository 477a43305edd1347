"""Every docs example that uses only the core area is run by a test here, or is listed below
with the reason it cannot run as a program; the copies in `examples/docs/` are verbatim.

An example "uses only the core area" when it imports from `mellea` and none of its imports
belongs to another area of the API checker (requirements, sampling, tools, streaming,
plugins, telemetry, serve, and the later ones: adapters, intrinsics, rich documents, the
Hugging Face backend) or to a third-party library the project does not depend on.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.docs._harness import DOCS, EXAMPLES, example_names, python_blocks
from tests.docs.conftest import Runner
from tests.servers import LoopbackServer, Reply

OTHER_AREAS = (
    "mellea.stdlib.requirements", "mellea.stdlib.sampling", "mellea.stdlib.tools",
    "mellea.stdlib.streaming", "mellea.stdlib.chunking", "mellea.plugins", "mellea.telemetry",
    "mellea.serve", "mellea.backends.huggingface", "mellea.backends.watsonx",
    "mellea.backends.adapters", "mellea.backends.cache", "mellea.formatters.granite",
    "mellea.stdlib.components.intrinsic", "mellea.stdlib.components.docs.richdocument",
)  # fmt: skip
OUR_THIRD_PARTY = {
    "asyncio", "collections", "dataclasses", "inspect", "json", "logging", "os", "pathlib",
    "re", "typing", "pydantic", "PIL", "pytest",
}  # fmt: skip

# Core-area examples that are not programs one can run as they stand, and why.
NOT_RUNNABLE = {
    "advanced_inference-time-scaling/09": "fragment: uses MyStrategy, defined by a sampling example",
    "concepts_mobjects-and-mify/06": "fragment: uses `table`/`Table` of a RichDocument example",
    "concepts_plugins/10": "fragment: uses a hook defined by a plugins example",
    "how-to_backends-and-configuration/06": "hosted provider: AWS Bedrock credentials",
    "how-to_build-a-rag-pipeline/03": "fragment: uses the page's sentence-transformers index",
    "how-to_configure-model-options/05": "fragment: top-level await on an `m` defined elsewhere",
    "how-to_execute-tool-calls/01": "fragment: `instruct`, `context`, `backend` undefined",
    "how-to_execute-tool-calls/02": "fragment: top-level await on `result`/`backend`",
    "how-to_execute-tool-calls/08": "fragment: `mot` and `backend` undefined",
    "how-to_primitives-vs-high-level/01": "fragment: `start_session` not imported",
    "how-to_unit-test-generative-code/06": "pytest test needing /01's fixture and a "
    "requirements-area example's classify_sentiment",
    "integrations_litellm/01": "hosted provider: Anthropic API key",
    "integrations_openai/14": "Granite Switch embedded adapters (area 'later')",
    "observability_logging/01": "fragment: `m` undefined",
    "reference_glossary/04": "fragment: `form`, `thunk` undefined",
    "reference_glossary/16": "fragment: `req`, `m` undefined",
    "reference_glossary/21": "fragment: `my_generative_fn`, `m` undefined",
    "reference_glossary/23": "fragment: top-level await",
    "reference_glossary/27": "fragment: `judge_session` undefined",
    "reference_glossary/29": "fragment: top-level await",
    "troubleshooting_common-errors/01": "fragment: `MelleaSession` not imported",
}
needs_docs = pytest.mark.skipif(not DOCS.exists(), reason="shared spec folder not present")


def imports(code: str) -> set[str]:
    found = re.findall(r"^\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", code, re.M)
    return {a or b for a, b in found}


def uses_only_the_core_area(code: str) -> bool:
    names = imports(code)
    ours = [n for n in names if n == "mellea" or n.startswith("mellea.")]
    if not ours or any(n == a or n.startswith(a + ".") for n in ours for a in OTHER_AREAS):
        return False
    return all(n.split(".")[0] in OUR_THIRD_PARTY for n in names - set(ours))


def core_examples() -> list[str]:
    names = []
    for page in sorted(p.stem for p in DOCS.glob("*.md")):
        for i, block in enumerate(python_blocks(page), 1):
            if uses_only_the_core_area(block):
                names.append(f"{page}/{i:02d}")
    return names


def run_in_tests() -> set[str]:
    """Example names the docs tests mention."""
    text = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    return set(re.findall(r'"([a-z0-9_-]+/\d\d)"', text)) - set(NOT_RUNNABLE)


@needs_docs
def test_examples_are_verbatim() -> None:
    for name in example_names():
        page, nn = name.split("/")
        assert (EXAMPLES / page / f"{nn}.py").read_text() == python_blocks(page)[int(nn) - 1], name


@needs_docs
def test_every_core_area_example_is_run_or_explained() -> None:
    expected = set(core_examples())
    copied, run = set(example_names()), run_in_tests()
    assert expected - set(NOT_RUNNABLE) <= run, sorted(expected - set(NOT_RUNNABLE) - run)
    assert set(NOT_RUNNABLE) <= expected, sorted(set(NOT_RUNNABLE) - expected)
    assert run <= copied and copied <= expected, sorted((run - copied) | (copied - expected))


def test_every_copied_example_is_run_or_explained() -> None:
    # Also on a clean clone (no spec folder): no copy lies around untested.
    copied = set(example_names())
    assert copied <= run_in_tests() | set(NOT_RUNNABLE), sorted(
        copied - run_in_tests() - set(NOT_RUNNABLE)
    )


def test_generative_unit_tests_judged_from_the_documented_file(
    run: Runner, loopback: LoopbackServer, tmp_path: Path
) -> None:
    data = tmp_path / "tests" / "eval_data"
    data.mkdir(parents=True)
    shutil.copy(EXAMPLES / "how-to_unit-test-generative-code" / "email_writer.json", data)
    judge = "You are grading the output"
    loopback.enqueue(Reply(text='{"score": 1, "justification": "Polite."}', match=judge, times=2))
    out = run("how-to_unit-test-generative-code/11").out
    assert out == 'case_001: {"score": 1, "justification": "Polite."}\n' * 2
    bodies = [r.body for r in loopback.stats().for_path("/api/chat")]
    assert len(bodies) == 4  # a prediction and a verdict per input
    verdict_prompt = bodies[1]["messages"][-1]["content"]
    assert "Write a brief professional follow-up email after a job interview" in verdict_prompt
    assert "Echo: " in verdict_prompt  # the generation session's prediction
    assert "1. Thank you for taking the time" in verdict_prompt
