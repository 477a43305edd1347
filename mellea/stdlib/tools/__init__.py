"""Ready-made tools: `python_tool`, a Python code interpreter.

```python
from mellea.stdlib.tools import python_tool

tool = python_tool(tier="local_unsafe")
result = tool.run(code="print(1 + 1)")
print(result.stdout)  # "2\\n"
```

Tiers (how the model's code runs):

- `"local_unsafe"`: a subprocess of this Python interpreter (same packages), in a fresh
  temporary working directory, with a timeout. **No isolation**: the code can do
  anything your user can. Only for trusted settings.
- `"docker"`: `docker run --rm --network none --read-only` with the `image` (default
  `python:3.11-slim`); needs the docker CLI. `"docker_unsafe"`: the same with network
  access and a writable filesystem.

The tool's output is an `ExecutionResult` (`success`, `stdout`, `stderr`, `exit_code`,
`error`); `str(result)` is what the model sees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Literal

from ...backends.tools import MelleaTool

Tier = Literal["local_unsafe", "docker", "docker_unsafe"]
_MAX_SHOWN = 4000  # characters of stdout/stderr the model sees


@dataclass
class ExecutionResult:
    """What running the code produced."""

    success: bool
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    error: str | None = None
    """Why it did not run to completion (timeout, docker missing), if that is the case."""

    def __str__(self) -> str:
        parts = []
        if self.error:
            parts.append(f"Error: {self.error}")
        elif not self.success:
            parts.append(f"The code exited with status {self.exit_code}.")
        if self.stdout:
            parts.append("stdout:\n" + self.stdout[-_MAX_SHOWN:])
        if self.stderr:
            parts.append("stderr:\n" + self.stderr[-_MAX_SHOWN:])
        return "\n".join(parts) or "The code ran and printed nothing."


def _command(tier: Tier, image: str) -> list[str]:
    if tier == "local_unsafe":
        return [sys.executable, "-"]
    if shutil.which("docker") is None:
        raise RuntimeError(f"python_tool(tier={tier!r}) needs the docker CLI, not found on PATH")
    isolation = ["--network", "none", "--read-only"] if tier == "docker" else []
    return ["docker", "run", "--rm", "-i", *isolation, image, "python", "-"]


def python_tool(
    tier: Tier = "local_unsafe",
    name: str = "python",
    *,
    timeout: float = 60.0,
    image: str = "python:3.11-slim",
) -> MelleaTool:
    """A tool that runs the Python code the model writes (see the module docs for tiers)."""
    if tier not in ("local_unsafe", "docker", "docker_unsafe"):
        raise ValueError(f"unknown tier {tier!r}; use 'local_unsafe', 'docker' or 'docker_unsafe'")
    command = _command(tier, image)

    def run_python(code: str) -> ExecutionResult:
        """Run Python code and return what it prints.

        Args:
            code: A complete Python program; use print() to show results.
        """
        with tempfile.TemporaryDirectory(prefix="mellea-python-") as workdir:
            try:
                done = subprocess.run(
                    command, input=code, capture_output=True, text=True, timeout=timeout,
                    cwd=workdir, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
                return ExecutionResult(False, out, error=f"timed out after {timeout} s")
            except OSError as exc:
                return ExecutionResult(False, error=f"could not start the interpreter: {exc}")
        return ExecutionResult(done.returncode == 0, done.stdout, done.stderr, done.returncode)

    return MelleaTool.from_callable(run_python, name)


__all__ = ["ExecutionResult", "Tier", "python_tool"]
