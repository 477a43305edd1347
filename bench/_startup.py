"""Section 4: `import mellea` in a fresh interpreter, best of 5, vs `import aiohttp`.

Only the import itself is timed (inside the child, around the import statement), not
the interpreter's start-up. Goal: <= 0.15 s absolute on this machine.
"""

from __future__ import annotations

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


def _import_time(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(stmt=stmt)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout)


def run() -> list[Row]:
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
