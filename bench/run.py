"""`make bench`: mellea's figures as ratios against baselines measured in the same run.

    .venv/bin/python bench/run.py [--only SECTION ...] [--no-write] [--profile OUT.svg]

Sections (each spawns its own loopback server in a subprocess, so the server never
shares our GIL; nothing touches the network):

  import     `import mellea` in a fresh process vs `import aiohttp`
  per-call   per-call latency and CPU, ttft 0, 1 token, vs raw aiohttp (async and sync)
  fan-out    the page's 32 / 256-thunk pattern at 0.5 s latency vs ideal, raw aiohttp
             and the openai SDK
  streaming  500 tokens at 2 ms through astream(): all delivered, span vs ideal
  memory     peak RSS of a 256-thunk fan-out; bytes per pending thunk
  engine     embedded llama.cpp through mellea vs llama_cpp directly; 4 thunks vs 1
  serve      m serve: time per request vs the program in-process; p99 at 256 streams
  cache      response cache: hit vs miss, hits/s (memory, SQLite), single flight
  validation streaming validation: early exit vs validate-after; partial-JSON parser cost
  throughput thunks/s at 256 in flight vs raw aiohttp requests/s (httpx, SDK for reference)
  hooks      plugin system: per-call cost with 0 plugins vs before it; one no-op per point
  telemetry  OpenTelemetry on (tracing + metrics, real SDK) vs off: per-call cost

Each section is one module with a `run() -> list[Row]`; a new measurement is a new module
added to SECTIONS.

Prints the table and appends it, dated, to bench/RESULTS.md (unless --no-write).
`--profile OUT.svg` runs the chosen sections under py-spy (all threads, mellea's I/O
thread included) and writes a flame graph; nothing is appended then.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

# Sections import as `bench.*` (relative imports) and the server as `tests.servers`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import (
    _cache,
    _fanout,
    _hooks,
    _local,
    _memory,
    _overhead,
    _serve,
    _startup,
    _stream_validation,
    _streaming,
    _telemetry,
    _throughput,
)
from bench._report import ROOT, Row, append, render

SECTIONS: dict[str, Callable[[], list[Row]]] = {
    "import": _startup.run,
    "per-call": _overhead.run,
    "fan-out": _fanout.run,
    "streaming": _streaming.run,
    "memory": _memory.run,
    "engine": _local.run,
    "serve": _serve.run,
    "cache": _cache.run,
    "validation": _stream_validation.run,
    "throughput": _throughput.run,
    "hooks": _hooks.run,
    "telemetry": _telemetry.run,
}


def _profile(out: str, only: list[str]) -> int:
    """Re-run this script under py-spy, which samples every thread (Python's don't)."""
    spy = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    cmd = [spy, "record", "--threads", "--rate", "250", "-o", out, "--",
           sys.executable, __file__, "--no-write", "--only", *only]  # fmt: skip
    return subprocess.call(cmd, cwd=ROOT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    ap.add_argument("--profile", metavar="OUT.svg", help="flame graph of the chosen sections")
    args = ap.parse_args()
    if args.profile:
        return _profile(args.profile, args.only)

    load = os.getloadavg()
    start = time.perf_counter()
    rows: list[Row] = []
    failed: list[str] = []
    for name in args.only:
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            rows += SECTIONS[name]()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"[bench] {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    section = render(rows, seconds=time.perf_counter() - start, load=load)
    if failed:
        section += f"\nFailed sections (see the run's output): {', '.join(failed)}\n"
    print(section)
    if not args.no_write:
        print(f"appended to {append(section).relative_to(ROOT)}", file=sys.stderr)
    missed = [r for r in rows if r.met is False]
    if missed:
        print(f"{len(missed)} goal(s) missed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
