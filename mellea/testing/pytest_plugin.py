"""The pytest plugin shipped with mellea (entry point `mellea`): cassettes for tests.

Mark a test (or a module: `pytestmark = pytest.mark.mellea_cassette`) and every
generation it makes — on any backend, through sessions, the functional API, sampling
loops, judges, tools or `@generative` — is recorded on its first run to
`<test dir>/cassettes/<test module>/<test name>.json`, and replayed from that file on
later runs, with no server and no model:

    @pytest.mark.mellea_cassette
    def test_summary(m):
        assert "Paris" in str(m.instruct("Capital of France?", model_options={...}))

`@pytest.mark.mellea_cassette("name")` picks the file's name; requesting the
`mellea_cassette` fixture does the same as the marker and gives the `Cassette`.

    pytest --mellea-record        record every marked test again (overwrites its file)
    pytest --mellea-replay-only   never record: a test without a cassette fails (for CI)

Replaying, a request that is not in the cassette fails the test with a diff against the
closest recorded request. Nothing heavy is imported until a marked test runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator

    from ._cassette import Cassette, Mode

_CASSETTE = pytest.StashKey["Cassette"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mellea", "mellea cassettes (record/replay of generations)")
    group.addoption(
        "--mellea-record", action="store_true",
        help="record the generations of mellea_cassette tests again, overwriting their files",
    )  # fmt: skip
    group.addoption(
        "--mellea-replay-only", action="store_true",
        help="replay mellea cassettes only: a test whose cassette is missing fails",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mellea_cassette(name=None): record this test's generations to a cassette file "
        "on the first run, replay them offline afterwards",
    )


def cassette_path(node: pytest.Item, name: str | None = None) -> Path:
    """`<test dir>/cassettes/<module stem>/<name or test name>.json`.

    A test in a class is named `Class.test`, so same-named tests of two classes differ.
    """
    test_file = Path(str(node.path))
    test_name = ".".join(node.nodeid.split("::")[1:]) or node.name
    stem = _safe(name or test_name)
    return test_file.parent / "cassettes" / test_file.stem / f"{stem}.json"


def _safe(name: str) -> str:
    """A file-name-safe form of a test name (parametrize ids carry brackets, spaces...)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "cassette"


@pytest.fixture
def mellea_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """Record (first run, or `--mellea-record`) or replay this test's generations."""
    from ._cassette import use_cassette

    node = request.node
    marker = node.get_closest_marker("mellea_cassette")
    name: Any = None
    if marker is not None:
        name = marker.kwargs.get("name", marker.args[0] if marker.args else None)
    path = cassette_path(node, name)
    config = request.config
    mode: Mode
    if config.getoption("mellea_record"):
        mode = "record"
    elif config.getoption("mellea_replay_only") or path.exists():
        mode = "replay"
    else:
        mode = "record"
    with use_cassette(path, mode) as cassette:
        node.stash[_CASSETTE] = cassette
        yield cassette


@pytest.fixture(autouse=True)
def _mellea_cassette_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("mellea_cassette") is not None:
        request.getfixturevalue("mellea_cassette")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is not None and cassette.misses:
        count = len(cassette.misses)
        more = f"\n(and {count - 1} more unmatched requests)" if count > 1 else ""
        pytest.fail(f"mellea cassette: {cassette.misses[0]}{more}", pytrace=False)
    return result
