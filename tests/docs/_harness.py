"""Run the documentation's example programs, unchanged, against the loopback server.

The examples are verbatim copies of the Python blocks of Mellea's documentation pages
(Apache-2.0), kept in `examples/docs/<page>/<nn>.py` (`nn`: the block's position among
the page's Python blocks). `python -m tests.docs._harness` refreshes them from the spec
folder; `test_examples_are_verbatim` checks them against it.

`run_example("page/nn", srv, ...)` executes one as `__main__` in-process, with
`OLLAMA_HOST` (and `OPENAI_BASE_URL`) pointing at the loopback server, in a scratch
working directory, and returns what it printed and the names it defined. A block that uses names an earlier block
of the same page defines runs after that block (`after=`), as a reader would.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "docs"
# The spec folder sits beside the clone (or beside the worktrees' folder); absent in CI.
DOCS = next(
    (d for d in (p / "shared" / "spec" / "docs" for p in ROOT.parents[:2]) if d.exists()),
    ROOT.parent / "shared" / "spec" / "docs",
)

_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(page: str) -> list[str]:
    """The Python blocks of a docs page, in order."""
    return _FENCE.findall((DOCS / f"{page}.md").read_text())


def example_path(name: str) -> Path:
    page, nn = name.split("/")
    return EXAMPLES / page / f"{nn}.py"


def example_names() -> list[str]:
    return sorted(f"{p.parent.name}/{p.stem}" for p in EXAMPLES.glob("*/*.py"))


def chat_bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    """Bodies of the Ollama chat requests the server received, oldest first."""
    return [r.body for r in srv.stats().for_path("/api/chat")]


def openai_bodies(srv: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.stats().for_path("/v1/chat/completions")]


def last_user_text(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m["role"] == "user"]
    content = users[-1]["content"] if users else ""
    return content if isinstance(content, str) else str(content)


@contextlib.contextmanager
def _pointed_at(srv: LoopbackServer, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OLLAMA_HOST", srv.host_port)
    # start_session() without arguments: Ollama at OLLAMA_HOST, without the reachability
    # probe (a loaded test machine can miss its 0.5 s deadline and pick the local model).
    monkeypatch.setenv("MELLEA_BACKEND", "ollama")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.chdir(cwd)
    yield


@dataclass
class Ran:
    """What an example printed, and the names it left behind."""

    out: str
    ns: dict[str, Any]


def run_example(
    name: str,
    srv: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    after: Sequence[str] = (),
) -> Ran:
    """Run example `name` (after the examples in `after`, in one namespace)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    out = io.StringIO()
    with _pointed_at(srv, tmp_path, monkeypatch), contextlib.redirect_stdout(out):
        for part in [*after, name]:
            path = example_path(part)
            code = compile(path.read_text(), str(path), "exec", dont_inherit=True)
            exec(code, namespace)
    return Ran(out.getvalue(), namespace)


def _refresh(names: Sequence[str]) -> None:
    """Copy the named blocks (`page/nn`) from the docs into examples/docs/."""
    for name in names:
        page, nn = name.split("/")
        block = python_blocks(page)[int(nn) - 1]
        path = example_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block)


if __name__ == "__main__":
    _refresh(sys.argv[1:] or example_names())
    print(f"refreshed {len(sys.argv[1:]) or len(example_names())} examples in {EXAMPLES}")
