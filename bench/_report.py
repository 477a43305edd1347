"""Result rows, their goals, and the markdown section `run.py` appends to RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"

HEADER = """\
# Benchmark results

Appended by `make bench` (`bench/run.py`); newest run at the bottom, history kept.

How to read a row: **ours** is mellea, **baseline** is the reference measured in the
same run (a raw client, the direct engine, or the ideal time), **ratio** = ours /
baseline. Timed sides are interleaved (baseline, ours, baseline, ours, ...) and reduced
to medians, so a ratio survives the noise of these shared 2-core machines far better
than the absolute figures do. **goal** applies to the ratio unless it carries a unit
(then it is an absolute bound on ours); **ok** is ✅ met, ❌ missed, blank when the row
is for information only. Each run's heading gives the commit and the load average at
start (other work on the machine inflates every absolute number).
"""


@dataclass(frozen=True)
class Goal:
    """`ratio <= limit`, `ratio >= limit`, or (with a unit) an absolute bound on ours."""

    op: Literal["<=", ">="]
    limit: float
    unit: str = ""  # empty: the goal is on the ratio

    def met(self, ours: float, ratio: float | None) -> bool | None:
        subject = ours if self.unit else ratio
        if subject is None:
            return None
        return subject <= self.limit if self.op == "<=" else subject >= self.limit

    def __str__(self) -> str:
        return (
            f"{self.op} {self.limit:g} {self.unit}" if self.unit else f"{self.op} {self.limit:g}x"
        )


@dataclass(frozen=True)
class Row:
    """One measurement: ours against a baseline in the same unit, maybe with a goal."""

    section: str
    name: str
    ours: float
    baseline: float | None
    unit: str
    goal: Goal | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.ours, self.ratio)

    @property
    def badness(self) -> float:
        """How far past (>1) or inside (<1) its goal the row is; 0 without a goal."""
        goal = self.goal
        subject = self.ours if goal is not None and goal.unit else self.ratio
        if goal is None or subject is None or subject <= 0:
            return 0.0
        return subject / goal.limit if goal.op == "<=" else goal.limit / subject


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    digits = 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    return f"{value:.{digits}f} {unit}".rstrip()


def _git_commit() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def render(rows: list[Row], *, seconds: float, load: tuple[float, float, float]) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {now} — commit {_git_commit()}",
        "",
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, bench took {seconds:.0f} s.",
        "",
        "| section | measurement | ours | baseline | ratio | goal | ok |",
        "|---|---|---:|---:|---:|---|:-:|",
    ]
    for r in rows:
        ok = {True: "✅", False: "❌", None: ""}[r.met]
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        name = f"{r.name} ({r.note})" if r.note else r.name
        lines.append(
            f"| {r.section} | {name} | {_fmt(r.ours, r.unit)} | {_fmt(r.baseline, r.unit)} "
            f"| {ratio} | {r.goal or ''} | {ok} |"
        )
    return "\n".join(lines) + "\n"


def append(section: str) -> Path:
    """Append one run's section to RESULTS.md, creating it with its header if needed."""
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    with RESULTS.open("a") as f:
        f.write("\n" + section)
    return RESULTS
