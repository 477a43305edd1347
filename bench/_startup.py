"""Section 4: `import mellea` in a fresh interpreter, best of 5, vs `import aiohttp`.

Only the import itself is timed (inside the child, around the import statement), not
the interpreter's start-up. Goal: <= 0.15 s absolute on this machine.

Imports are timed from bytecode, as a program meets them on every run but its first: one
untimed run per statement writes mellea's `__pycache__` (in the clone), and the children
ignore an inherited PYTHONDONTWRITEBYTECODE, which would otherwise make them compile every
mellea module from source while the baseline (installed with its `.pyc`) does not.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ._report import ROOT, Goal, Row

SECTION = "4 import"
TIMES = 5
_CHILD = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
# `import mellea` defers its heavy modules, so also time what a program loads before its
# first call: the session API and the default HTTP backend (aiohttp itself is imported at
# the first request, in a worker thread, so it is not in this figure).
STATEMENTS = {
    "mellea": "import mellea",
    "aiohttp": "import aiohttp",
    "first use": "import mellea; mellea.start_session; import mellea.backends.ollama",
}


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _import_time(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(stmt=stmt)],
        cwd=ROOT, env=_ENV, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout)


def run() -> list[Row]:
    for stmt in STATEMENTS.values():  # untimed: writes the bytecode the timed runs read
        _import_time(stmt)
    best = dict.fromkeys(STATEMENTS, float("inf"))
    for _ in range(TIMES):  # interleaved, like every other pair
        for name, stmt in STATEMENTS.items():
            best[name] = min(best[name], _import_time(stmt))
    ms, goal = 1e3, Goal("<=", 150, "ms")
    return [
        Row(SECTION, "import mellea vs import aiohttp (fresh process, best of 5)",
            best["mellea"] * ms, best["aiohttp"] * ms, "ms", goal),
        Row(SECTION, "import mellea + start_session + Ollama backend vs import aiohttp",
            best["first use"] * ms, best["aiohttp"] * ms, "ms", goal),
    ]  # fmt: skip
