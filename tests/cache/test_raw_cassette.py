"""Cassettes of `generate_from_raw`: one interaction per prompt, the request as sent, replayed
offline (in-process, and through the pytest plugin with `--mellea-replay-only`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mellea.backends import ModelOption
from mellea.backends._policy import RetryPolicy
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.backends.response_cache import canonical
from mellea.core.base import CBlock
from mellea.core.errors import CassetteMissError
from mellea.stdlib.context import SimpleContext
from mellea.testing import use_cassette
from tests.servers import LoopbackServer

NO_RETRY = RetryPolicy(max_retries=0)
SAMPLED: dict[str, Any] = {ModelOption.TEMPERATURE: 0.9, ModelOption.STREAM: True}


def _backend(srv: LoopbackServer, kind: str) -> OllamaModelBackend | OpenAIBackend:
    if kind == "ollama":
        return OllamaModelBackend("m", base_url=srv.url, retry=NO_RETRY)
    return OpenAIBackend("m", base_url=srv.openai_base_url, retry=NO_RETRY)


async def _values(backend: Any, prompts: list[str]) -> list[str]:
    mots = await backend.generate_from_raw(
        [CBlock(p) for p in prompts], SimpleContext(), model_options=SAMPLED
    )
    return [str(await mot.avalue()) for mot in mots]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_raw_batch_records_what_was_sent_and_replays_offline(
    loopback: LoopbackServer, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "raw.json"
    backend = _backend(loopback, kind)
    with use_cassette(path, "record"):
        recorded = await _values(backend, ["first prompt", "second prompt"])
    assert recorded == ["Echo: first prompt", "Echo: second prompt"]
    interactions = json.loads(path.read_text())["interactions"]
    assert len(interactions) == 2
    # The request kept is the body the server got, less how it was delivered.
    sent = {r.body["prompt"]: r.body for r in loopback.stats().requests}
    for interaction in interactions:
        request = interaction["request"]
        assert (request["backend"], request["model"]) == (kind, "m")
        body = {k: v for k, v in sent[request["request"]["prompt"]].items()
                if k not in ("stream", "stream_options", "keep_alive")}  # fmt: skip
        assert request["request"] == canonical(body)
    loopback.stop()

    with use_cassette(path, "replay") as cassette:
        replayed = await _values(backend, ["second prompt", "first prompt"])
        assert replayed == ["Echo: second prompt", "Echo: first prompt"]
        (changed,) = await backend.generate_from_raw(
            [CBlock("first prompz")], SimpleContext(), model_options=SAMPLED
        )
        with pytest.raises(CassetteMissError) as miss:
            await changed.avalue()
    assert len(cassette.misses) == 1
    message = str(miss.value)
    assert '-    "prompt": "first prompt"' in message
    assert '+    "prompt": "first prompz"' in message


APP = """
import os
from mellea.backends import ModelOption
from mellea.backends.ollama import OllamaModelBackend
from mellea.core.base import CBlock
from mellea.stdlib.context import SimpleContext
import pytest

PROMPTS = ["Once upon", "In a galaxy"]


@pytest.mark.mellea_cassette
async def test_raw():
    backend = OllamaModelBackend("loopback", base_url=os.environ["LOOPBACK_URL"])
    mots = await backend.generate_from_raw(
        [CBlock(p) for p in PROMPTS], SimpleContext(),
        model_options={ModelOption.TEMPERATURE: 0.7},
    )
    assert [await m.avalue() for m in mots] == ["Echo: " + p for p in PROMPTS]
"""


def _pytest(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # This checkout's mellea first (a relative PYTHONPATH would point into the project).
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "LOOPBACK_URL": url, "PYTHONPATH": root}
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_the_plugin_records_and_replays_raw_batches(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "test_app.py").write_text(APP)
    srv = LoopbackServer().start()
    try:
        recorded = _pytest(tmp_path, srv.url)
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        assert len(srv.stats().requests) == 2
    finally:
        srv.stop()
    cassette = json.loads((tmp_path / "cassettes" / "test_app" / "test_raw.json").read_text())
    prompts = [i["request"]["request"]["prompt"] for i in cassette["interactions"]]
    assert sorted(prompts) == ["In a galaxy", "Once upon"]

    replayed = _pytest(tmp_path, srv.url, "--mellea-replay-only")  # the server is gone
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    (tmp_path / "test_app.py").write_text(APP.replace('"Once upon"', '"Once upon a time"'))
    changed = _pytest(tmp_path, srv.url, "--mellea-replay-only")
    assert changed.returncode == 1
    out = changed.stdout
    assert "CassetteMissError: this request is not in the cassette" in out
    assert '-    "prompt": "Once upon",' in out and '+    "prompt": "Once upon a time",' in out
