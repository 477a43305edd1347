"""Fixtures for the docs examples: `run(name, after=...)` on a fresh loopback server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.docs._harness import Ran, run_example
from tests.servers import LoopbackServer

Runner = Callable[..., Ran]


@pytest.fixture
def run(loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runner:
    def _run(name: str, after: Sequence[str] = ()) -> Ran:
        return run_example(name, loopback, monkeypatch, tmp_path, after=after)

    return _run
