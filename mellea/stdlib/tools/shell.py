"""The shell tool: model-written bash commands behind guardrails and process limits.

```python
from mellea.stdlib.tools import BashEnvironment, bash_executor

tool = BashEnvironment(working_dir="/data/project").as_tool()   # offer it to the model
bash_executor("ls -la && wc -l *.txt", working_dir="/data/project")  # or call it yourself
```
(`as_tool()` gives the model only the `command` argument; `bash_executor`'s
`working_dir` / `allowed_paths` are yours to set, not the model's.)
A command is first checked by the guardrails (`_shell_guard`: deny list, optional allow
list, no network clients unless `allow_network`, writes only inside the working
directory and `allowed_paths`); a refused command never runs and the result says
which rule refused it. An accepted one runs in `bash --noprofile --norc` with the
Python sandbox's containment: its own process group (killed at the timeout and after
it exits), CPU / memory / file-size / process limits, a scrubbed environment,
`nobody` when started as root (where the Python installation allows), capped output,
and (with Landlock) writes confined to the working directory and `allowed_paths` and no
reads of the user's home (`policy.protect_home`; `read_protection` says whether the
kernel enforces that here — without Landlock nothing does, and a warning is logged).
Without `working_dir` each command runs in a fresh scratch directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...backends.tools import MelleaTool
from . import _local_run as run
from ._environments import to_result
from ._result import ExecutionResult
from ._shell_guard import ShellPolicyError, check_command
from .execution_policy import LOCAL_POLICY, CapabilityPolicy

if TYPE_CHECKING:
    from ._sandbox_child import ChildConfig

_BASH = shutil.which("bash") or "/bin/bash"


class BashEnvironment:
    """Runs shell commands that pass the guardrails, under the sandbox's limits."""

    mode = "bash"

    def __init__(
        self,
        allowed_paths: list[str] | None = None,
        working_dir: str | None = None,
        timeout: int = 60,
        *,
        allowed_commands: list[str] | None = None,
        allow_network: bool = False,
        policy: CapabilityPolicy | None = None,
    ) -> None:
        self.allowed_paths = list(allowed_paths or [])
        self.working_dir = working_dir
        self.timeout = timeout
        self.allowed_commands = allowed_commands
        self.allow_network = allow_network
        self.policy = policy or LOCAL_POLICY

    @property
    def read_protection(self) -> str:
        """`"kernel"` where Landlock keeps commands out of the user's home (and the other
        protected directories); `"none"` where nothing does (a warning is logged once)."""
        return run.read_protection("shell", run.protected_dirs(self.policy))

    def check(self, command: str, cwd: str) -> ExecutionResult | None:
        """A skipped result naming the rule, if the guardrails refuse `command`."""
        try:
            check_command(
                command, cwd=cwd, allowed_paths=self.allowed_paths,
                allowed_commands=self.allowed_commands, allow_network=self.allow_network,
            )  # fmt: skip
        except ShellPolicyError as exc:
            message = f"Refused by the shell guardrails: {exc}"
            return ExecutionResult(
                False, skipped=True, skip_message=message, execution_mode=self.mode, error=message
            )
        return None

    def execute(self, command: str) -> ExecutionResult:
        """Check, then run `command` (never raises for what the command does)."""
        owner = run.drop_target() if self.working_dir is None else None
        scratch = self.working_dir or run.scratch_dir(owner)
        try:
            refused = self.check(command, scratch)
            if refused is not None:
                return refused
            p = self.policy
            write_roots = [scratch, *self.allowed_paths]
            protected = run.protected_dirs(p)
            readable = [*write_roots, *map(str, p.filesystem_read_roots or [])]
            config: ChildConfig = {
                **run.read_rules(protected, readable),
                "kind": "shell", "shell": _BASH, "command": command,
                "write_roots": write_roots,
                "drop_to": list(owner) if owner else None,
                "limits": {
                    "cpu_seconds": p.cpu_seconds or self.timeout,
                    "memory_bytes": p.memory_max_bytes, "file_bytes": p.file_max_bytes,
                    "open_files": p.open_files, "processes": p.max_processes,
                },
            }  # fmt: skip
            outcome = run.run_child(
                config, cwd=scratch, env=run.sandbox_env(p.env_var_access, scratch),
                timeout=float(self.timeout), max_pids=p.max_processes,
                stdout_cap=p.stdout_max_bytes or 1 << 20, stderr_cap=p.stderr_max_bytes or 1 << 20,
            )  # fmt: skip
            result = to_result(outcome, self.mode, self.working_dir, protected=protected)
            result.read_protection = run.read_protection("shell", protected)
            return result
        finally:
            if self.working_dir is None:
                run.remove_scratch(scratch)

    def as_tool(self, name: str = "bash") -> MelleaTool[..., Any]:
        """A tool whose only argument is the command (the rest is this environment's)."""

        def run_bash(command: str) -> ExecutionResult:
            """Run a bash command line and return its output.

            Args:
                command: The bash command line to run.
            """
            return self.execute(command)

        return MelleaTool.from_callable(run_bash, name)


class StaticBashEnvironment(BashEnvironment):
    """Checks commands against the guardrails without running them."""

    mode = "bash-static"

    def execute(self, command: str) -> ExecutionResult:
        refused = self.check(command, self.working_dir or str(Path.cwd()))
        if refused is not None:
            return refused
        return ExecutionResult(
            True, skipped=True, execution_mode=self.mode,
            skip_message="The command passes the guardrails; the static environment does not run it.",
        )  # fmt: skip


def bash_executor(
    command: str, working_dir: str | None = None, allowed_paths: list[str] | None = None
) -> ExecutionResult:
    """Run a bash command and return its output.

    Args:
        command: The bash command line to run.
        working_dir: The directory to run it in (a fresh scratch directory if omitted).
        allowed_paths: Extra directories the command may write to.
    """
    return BashEnvironment(allowed_paths, working_dir).execute(command)


__all__ = ["BashEnvironment", "ShellPolicyError", "StaticBashEnvironment", "bash_executor"]
