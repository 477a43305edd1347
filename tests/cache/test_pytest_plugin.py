"""The pytest plugin, as users run it: a record run against a live server, then replay runs
in fresh pytest processes with the server gone (and the embedded model never loaded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import LoopbackServer, Reply

pytestmark = pytest.mark.model  # one test records on the embedded engine

APP = '''
import json, os, sys
from pathlib import Path
from typing import Literal

import pytest

from mellea import generative
from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.backends.tools import tool
from mellea.stdlib.session import MelleaSession
from mellea.stdlib.tool_calling import call_tools

URL = os.environ["LOOPBACK_URL"]
OUT = Path(os.environ["RESULTS"])


def note(name, value):
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[name] = value
    OUT.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def m():  # built once, before any cassette is active, as test suites do
    return MelleaSession(OllamaModelBackend("loopback", base_url=URL))


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@generative
def sentiment(text: str) -> Literal["positive", "negative"]:
    """The sentiment of the text."""


@pytest.mark.mellea_cassette
def test_instruct(m):
    note("instruct", str(m.instruct("PROMPT")))


@pytest.mark.mellea_cassette
async def test_streaming(m):
    mot = await m.ainstruct("Count.", model_options={ModelOption.STREAM: True})
    note("stream", "".join([chunk async for chunk in mot]))  # (boundaries: how fast we read)


@pytest.mark.mellea_cassette
def test_sampling_loop_with_a_judge(m):
    mot = m.instruct("Write a greeting.", requirements=["Be polite."])
    result = mot.sampling_result
    note("sampling", [str(mot), result.success, len(result.sample_generations)])


@pytest.mark.mellea_cassette("weather")
def test_tools_on_openai():
    backend = OpenAIBackend("loopback", base_url=URL + "/v1", api_key="sk-SECRET-123")
    s = MelleaSession(backend)
    mot = s.instruct("Weather in Oslo?", model_options={ModelOption.TOOLS: [get_weather]},
                     tool_calls=True)
    note("tools", [msg.content for msg in call_tools(mot, backend)])


class TestGenerative:
    @pytest.mark.mellea_cassette
    def test_generative(self, m):
        note("generative", sentiment(m, text="I love it"))


@pytest.mark.mellea_cassette
def test_swallows_errors(m):
    try:
        m.instruct("anything")
    except Exception:
        pass


def test_embedded_engine(mellea_cassette):
    from mellea.backends.local import LocalBackend

    s = MelleaSession(LocalBackend(n_threads=1))
    note("local", str(s.instruct("Name a color.", model_options={ModelOption.MAX_NEW_TOKENS: 8})))
    note("llama_cpp_loaded", "llama_cpp" in sys.modules)
    note("local_mode", mellea_cassette.mode)
'''


def _pytest(project: Path, url: str, results: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOOPBACK_URL": url, "RESULTS": str(results), "MELLEA_LOCAL_THREADS": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    # This checkout's mellea, whatever the venv's editable install points at (a relative
    # PYTHONPATH inherited from the caller would resolve inside the temporary project).
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "test_app.py").write_text(APP)
    return tmp_path


def test_record_then_replay_offline(project: Path) -> None:
    srv = LoopbackServer(tokens=None).start()
    srv.enqueue(
        Reply(match="Weather in Oslo", tool_calls=[{"name": "get_weather",
                                                    "arguments": {"city": "Oslo"}}]),
        Reply(match="Requirement: Be polite.", text="No, it is not."),  # the first judge only
    )  # fmt: skip
    try:
        recorded = _pytest(project, srv.url, project / "recorded.json")
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        served = len(srv.stats().requests)
    finally:
        srv.stop()
    cassettes = project / "cassettes" / "test_app"
    names = sorted(p.name for p in cassettes.iterdir())
    assert names == ["TestGenerative.test_generative.json", "test_embedded_engine.json",
                     "test_instruct.json",
                     "test_sampling_loop_with_a_judge.json", "test_streaming.json",
                     "test_swallows_errors.json", "weather.json"]  # fmt: skip
    sampling = json.loads((cassettes / "test_sampling_loop_with_a_judge.json").read_text())
    assert len(sampling["interactions"]) == 4  # two attempts, each with its judge
    assert served == 9  # everything but the embedded engine went to the server

    # The files are stable, reviewable text, and hold no credentials.
    for path in cassettes.iterdir():
        text = path.read_text()
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
        assert "SECRET" not in text and "authorization" not in text.lower()

    replayed = _pytest(project, srv.url, project / "replayed.json")  # the server is gone
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    first = json.loads((project / "recorded.json").read_text())
    again = json.loads((project / "replayed.json").read_text())
    assert (first.pop("llama_cpp_loaded"), again.pop("llama_cpp_loaded")) == (True, False)
    assert (first.pop("local_mode"), again.pop("local_mode")) == ("record", "replay")
    assert again == first
    assert first["stream"] == "Echo: Count."
    stream = json.loads((cassettes / "test_streaming.json").read_text())
    assert stream["interactions"][0]["response"]["chunks"] == ["Echo: ", "Count."]
    assert first["tools"] == ["sunny in Oslo"]
    assert first["sampling"][1:] == [True, 2]  # passed on the second attempt

    # A request that is not in the cassette fails the test, with a diff.
    (project / "test_app.py").write_text(APP.replace('"PROMPT"', '"A CHANGED PROMPT"'))
    changed = _pytest(project, srv.url, project / "changed.json", "-k", "test_instruct")
    assert changed.returncode == 1
    out = changed.stdout
    assert "not in the cassette" in out and "--mellea-record" in out
    assert '-        "content": "PROMPT"' in out and '+        "content": "A CHANGED PROMPT"' in out

    # --mellea-record records again: with the server gone that fails for real, and the
    # cassette is left as it was.
    before = (cassettes / "test_instruct.json").read_text()
    rerecord = _pytest(project, srv.url, project / "x.json", "-k", "test_instruct",
                       "--mellea-record")  # fmt: skip
    assert rerecord.returncode == 1 and "BackendUnavailableError" in rerecord.stdout
    assert (cassettes / "test_instruct.json").read_text() == before


def test_replay_only_fails_tests_without_a_cassette(project: Path) -> None:
    result = _pytest(project, "http://127.0.0.1:9", project / "r.json", "-k",
                     "test_instruct or test_swallows", "--mellea-replay-only")  # fmt: skip
    assert result.returncode == 1 and "2 failed" in result.stdout
    # a test that swallows the error still fails, with the plugin's message
    assert "mellea cassette: this request is not in the cassette" in result.stdout
    assert "the file does not exist" in result.stdout
    assert not (project / "cassettes").exists()


def test_the_plugin_imports_nothing_heavy() -> None:
    """pytest imports the plugin in every run of every project that has mellea installed."""
    code = (
        "import sys, mellea.testing.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('mellea.', 'httpx', 'pydantic'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        out.stdout.strip() == "['mellea._lazy', 'mellea.testing', 'mellea.testing.pytest_plugin']"
    )
