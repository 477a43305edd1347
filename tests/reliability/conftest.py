"""Fixtures of the fault-injection tests: every fault on both backends and both paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.servers import LoopbackServer

from ._harness import RESULTS, Harness, Kind, Mode

MakeHarness = Callable[..., Harness]


@pytest.fixture(params=["ollama", "openai"])
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def make(kind: Kind, mode: Mode) -> AsyncIterator[MakeHarness]:
    """`make(server_or_url, **backend_kw)`: a Harness for this test's backend and path,
    closed afterwards (its pooled connections must then be gone on the server too)."""
    made: list[Harness] = []

    def factory(server: LoopbackServer | str, **kw: Any) -> Harness:
        h = Harness(kind, mode, server, **kw)
        made.append(h)
        return h

    yield factory
    for h in made:
        await h.aclose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Each fault's observed outcome and time to error, as measured by the tests."""
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section("fault injection: outcome and time to error")
    width = max(len(r[0]) for r in RESULTS)
    for fault, kind, mode, outcome, seconds in sorted(RESULTS):
        line = f"{fault:<{width}}  {kind:<6}  {mode:<5}  {seconds * 1000:8.1f} ms  {outcome}"
        tr.write_line(line)
