"""Section 10: what the plugin system costs a call — nothing when unused.

Every side runs in its own process (`_hooks_worker.py`: sync `m.instruct` calls to the
loopback Ollama server, 1-token replies, so the library's own work dominates), in
alternating rounds, reduced to the median over rounds:

- **0 plugins vs before the hook points**: this tree against the tree of the commit just
  before the hook points were threaded through sessions, functional API, backends,
  sampling, validation and tools (extracted with `git archive` into a temporary
  directory), same venv, same server. Goal: CPU per call within 1%. (Changes landed
  since then count too: the further main moves, the less this row isolates the hooks.)
- **one no-op plugin at every hook point vs 0 plugins** (for information): the price of
  a hook system in use — payloads built, scopes tracked, every point dispatched.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tests.servers import LoopbackServer

from ._report import ROOT, Goal, Row

SECTION = "10 hooks"
WORKER = Path(__file__).with_name("_hooks_worker.py")
MARKER = "plugins: the hook points"  # the commit that threaded them through the library
FREE_GOAL = Goal("<=", 1.01)


def _before_commit() -> str | None:
    """The commit just before the hook points landed (None without that history)."""
    found = subprocess.run(
        ["git", "log", "--format=%H", f"--grep={MARKER}", "--fixed-strings", "--reverse"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    if not found:
        return None
    parent = subprocess.run(
        ["git", "rev-parse", f"{found[0]}^"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    ).stdout.strip()  # fmt: skip
    return parent or None


def _extract(commit: str, into: Path) -> None:
    archive = into / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", commit, "mellea"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def _side(url: str, calls: int, plugins: str, tree: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, str(WORKER), url, str(calls), plugins, str(tree / "mellea")],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _median(rounds: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def run(calls: int = 300, rounds: int = 5) -> list[Row]:
    srv = LoopbackServer(tokens=1).spawn()
    try:
        srv.configure(record_requests=False)
        sides: dict[str, list[dict[str, float]]] = {"now": [], "noop": [], "before": []}
        with tempfile.TemporaryDirectory(prefix="mellea-bench-") as tmp:
            commit = _before_commit()
            before = Path(tmp)
            if commit is not None:
                _extract(commit, before)
            for _ in range(rounds):
                if commit is not None:
                    sides["before"].append(_side(srv.url, calls, "none", before))
                sides["now"].append(_side(srv.url, calls, "none", ROOT))
                sides["noop"].append(_side(srv.url, calls, "noop", ROOT))
    finally:
        srv.stop()
    ms = 1e3
    now_cpu, now_wall = _median(sides["now"], "cpu_per_call"), _median(sides["now"], "median")
    rows: list[Row] = []
    if sides["before"]:
        label = f"before the hook points ({commit[:7] if commit else '?'})"
        rows += [
            Row(SECTION, f"CPU per sync call, 0 plugins vs {label}", now_cpu * ms,
                _median(sides["before"], "cpu_per_call") * ms, "ms", FREE_GOAL),
            Row(SECTION, f"wall per sync call (median), 0 plugins vs {label}", now_wall * ms,
                _median(sides["before"], "median") * ms, "ms"),
        ]  # fmt: skip
    rows += [
        Row(SECTION, "CPU per sync call, one no-op plugin on every hook point (27) vs 0 plugins",
            _median(sides["noop"], "cpu_per_call") * ms, now_cpu * ms, "ms"),
        Row(SECTION, "wall per sync call (median), one no-op plugin on every hook point vs 0",
            _median(sides["noop"], "median") * ms, now_wall * ms, "ms"),
    ]  # fmt: skip
    return rows
