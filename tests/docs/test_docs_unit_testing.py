"""The "Unit-test generative code" page as its reader uses it: its fixtures (/01) as a
`conftest.py`, its tests (/05, /08) in a test module, run by pytest in a subprocess with
`OLLAMA_HOST` pointing at the loopback server — unchanged, with the page's markers
registered and its qualitative tests deselected, as it advises for CI. (/06 needs the
requirements-area block /03, see `test_docs_coverage.NOT_RUNNABLE`.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.docs._harness import ROOT, chat_bodies, example_path
from tests.servers import LoopbackServer

FIXTURES = "how-to_unit-test-generative-code/01"
TESTS = ("how-to_unit-test-generative-code/05", "how-to_unit-test-generative-code/08")
MARKERS = """[pytest]
markers =
    qualitative: tests that assert on LLM output content (skipped in CI)
    requires_ollama: needs an Ollama server
"""


def test_the_pages_fixtures_and_tests_run_under_pytest(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    (tmp_path / "pytest.ini").write_text(MARKERS)
    (tmp_path / "conftest.py").write_text(example_path(FIXTURES).read_text())
    tests = "\n\n".join(example_path(name).read_text() for name in TESTS)
    (tmp_path / "test_generative.py").write_text(tests)
    env = {**os.environ, "OLLAMA_HOST": loopback.url, "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not qualitative"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout
    bodies = chat_bodies(loopback)
    assert [b["model"] for b in bodies] == ["granite4.1:3b"] * 2  # the fixture's backend
    assert bodies[0]["format"]["properties"].keys() == {"summary", "score", "tags"}
    assert bodies[1]["options"]["custom_param"] == "should_pass_through"
