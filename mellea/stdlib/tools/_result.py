"""`ExecutionResult`: what running (or checking) a piece of code produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .execution_policy import Artifact

_MAX_SHOWN = 4000  # characters of stdout / stderr the model sees

_LIMIT_NOTES = {
    "timeout": "it was stopped at the time limit",
    "cpu": "it was stopped at the CPU-time limit",
    "memory": "it ran out of its memory limit",
    "stdout": "it was stopped when its output passed the size limit",
    "stderr": "it was stopped when its error output passed the size limit",
    "policy": "the sandbox policy refused something it tried",
    "processes": "it hit the limit on processes",
}


@dataclass
class ExecutionResult:
    """The outcome of one `ExecutionEnvironment.execute` (the reference's fields, then ours).

    `skipped` means the code did not run (static tier, a policy finding, a missing
    package, no Docker); `skip_message` says why. `limit` names the containment that
    ended a run (`"timeout"`, `"cpu"`, `"memory"`, `"stdout"`, `"stderr"`, `"policy"`,
    `"processes"`). `str(result)` is what a model sees as the tool's output.
    """

    success: bool
    stdout: str | None = None
    stderr: str | None = None
    skipped: bool = False
    skip_message: str | None = None
    analysis_result: Any | None = None
    exit_code: int | None = None
    timed_out: bool = False
    artifacts: list[Artifact] = field(default_factory=list)
    execution_mode: str = "unknown"
    working_directory: str | None = None
    limit: str | None = None
    duration_s: float | None = None
    error: str | None = None
    """A one-line account of why it did not succeed, when mellea knows it."""
    read_protection: str | None = None
    """Who kept the run out of the user's home: `"kernel"` (Landlock, for every process
    of the run), `"audit-hook"` (the Python tier without Landlock: the code's own reads
    only) or `"none"`; None where the tier does not say (static, containers)."""

    def to_validationresult_reason(self) -> str:
        """The reason a requirement reports: why it was skipped, stdout, or stderr."""
        if self.skipped:
            return self.skip_message or "the code was not run"
        if self.success:
            return self.stdout or ""
        parts = [self.error] if self.error else []
        if self.stderr:
            parts.append(self.stderr[-_MAX_SHOWN:])
        return "\n".join(parts) or f"the code exited with status {self.exit_code}"

    def __str__(self) -> str:
        parts: list[str] = []
        if self.skipped:
            parts.append(f"Not run: {self.skip_message}")
        elif self.error:
            parts.append(f"Error: {self.error}")
        elif not self.success:
            parts.append(f"The code exited with status {self.exit_code}.")
        if self.stdout:
            parts.append("stdout:\n" + self.stdout[-_MAX_SHOWN:])
        if self.stderr:
            parts.append("stderr:\n" + self.stderr[-_MAX_SHOWN:])
        return "\n".join(parts) or "The code ran and printed nothing."


def limit_note(limit: str | None) -> str | None:
    return _LIMIT_NOTES.get(limit or "")


__all__ = ["ExecutionResult", "limit_note"]
