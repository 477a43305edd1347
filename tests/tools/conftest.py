"""Prints what the sandbox tests contained, how, and how long it took (a table at the end)."""

from __future__ import annotations

from typing import Any

from tests.tools._outcomes import OUTCOMES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not OUTCOMES:
        return
    tr = terminalreporter
    tr.write_sep("=", "sandbox outcomes (hostile snippets)")
    header = ("tool / tier", "snippet", "contained", "how", "seconds")
    rows = [
        header,
        *[(o.tier, o.snippet, o.contained, o.how, f"{o.seconds:.2f}") for o in OUTCOMES],
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        tr.write_line("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            tr.write_line("  ".join("-" * w for w in widths))
