"""The execution environments: static analysis, the local sandbox, the unsafe local tier.

The container tier is in `_container.py`; `interpreter.py` picks one by tier name.
Every `execute` is synchronous (tools run in worker threads; `await env.aexecute(code)`
does that for you) and returns an `ExecutionResult` — it never raises for what the
code did, and never outlives its timeout.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import shutil
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import _local_run as run
from ._result import ExecutionResult, limit_note
from ._static_check import NATIVE_MODULES, NETWORK_MODULES, PROCESS_MODULES, check_code
from ._static_check import missing_packages as find_missing
from .execution_policy import LOCAL_POLICY, Artifact, CapabilityPolicy

if TYPE_CHECKING:
    from ._sandbox_child import ChildConfig

logger = logging.getLogger("mellea")

_CODE_FILE = "main.py"
_HARD_OUTPUT_CAP = 8 * 1024 * 1024  # even with no cap in the policy


class ExecutionEnvironment(ABC):
    """Where model-written Python runs. Subclasses implement `execute`."""

    tier: str = "unknown"

    def __init__(
        self,
        allowed_imports: list[str] | None = None,
        policy: CapabilityPolicy | None = None,
        working_directory: str | None = None,
    ) -> None:
        self.allowed_imports = list(allowed_imports) if allowed_imports is not None else None
        self.policy = policy
        self.working_directory = working_directory

    @abstractmethod
    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        """Run (or check) `code`; `timeout` overrides the policy's, in seconds."""

    async def aexecute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        """`execute` in a worker thread, for async callers."""
        return await asyncio.to_thread(self.execute, code, timeout)

    def copy_in(self, host_path: Path, container_path: str) -> None:
        """Copy a host file into the working directory (needs `working_directory`)."""
        shutil.copy2(host_path, self._inside(container_path))

    def copy_out(self, container_path: str, host_path: Path) -> None:
        """Copy a file from the working directory to the host."""
        shutil.copy2(self._inside(container_path), host_path)

    def _inside(self, path: str) -> Path:
        if self.working_directory is None:
            raise NotImplementedError(
                f"{type(self).__name__} copies files only with a working_directory"
            )
        root = Path(self.working_directory).resolve()
        target = (root / path.lstrip("/")).resolve()
        if target != root and root not in target.parents:
            raise ValueError(f"{path!r} is outside the working directory")
        return target

    def _skipped(
        self, message: str, analysis: object = None, success: bool = False
    ) -> ExecutionResult:
        return ExecutionResult(
            success, skipped=True, skip_message=message, analysis_result=analysis,
            execution_mode=self.tier, error=None if success else message,
        )  # fmt: skip

    def _precheck(self, code: str, policy: CapabilityPolicy | None) -> ExecutionResult | None:
        """A skipped result when the code cannot or may not run (syntax, policy)."""
        report = check_code(code, policy, self.allowed_imports)
        if report.syntax_error is not None:
            err = report.syntax_error
            return self._skipped(f"SyntaxError: {err.msg} (line {err.lineno})", err)
        if report.findings:
            return self._skipped("Refused by the policy: " + "; ".join(report.findings), report)
        return None


class StaticAnalysisEnvironment(ExecutionEnvironment):
    """Never runs code: parses it and checks imports and the policy's capabilities."""

    tier = "static"

    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        refused = self._precheck(code, self.policy)
        if refused is not None:
            return refused
        tree = check_code(code, None, None).tree
        return self._skipped(
            "The code parses and passes the policy; the static tier does not run code "
            "(the parse tree is in analysis_result).",
            tree, success=True,
        )  # fmt: skip


class LocalSandboxEnvironment(ExecutionEnvironment):
    """The `"local"` tier: a separate, limited Python process (see `execution_policy`)."""

    tier = "local"

    def __init__(
        self,
        allowed_imports: list[str] | None = None,
        policy: CapabilityPolicy | None = None,
        working_directory: str | None = None,
        *,
        artifact_dir: Path | None = None,
        suppress_agg: bool = False,
    ) -> None:
        super().__init__(allowed_imports, policy or LOCAL_POLICY, working_directory)
        self.artifact_dir = artifact_dir
        self.suppress_agg = suppress_agg

    @property
    def _policy(self) -> CapabilityPolicy:
        assert self.policy is not None
        return self.policy

    @property
    def read_protection(self) -> str:
        """Who keeps the code out of the protected directories (the user's home):
        `"kernel"` (Landlock: the code and every process it starts), `"audit-hook"` (no
        Landlock here: the code's own reads only), or `"none"` (nothing is protected)."""
        return run.read_protection("python", run.protected_dirs(self._policy))

    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        refused = self._precheck(code, self._policy)
        if refused is not None:
            return refused
        missing = find_missing(self._policy.packages)
        if missing:
            return self._skipped(
                f"missing packages: {', '.join(missing)} (the local tiers never install "
                "packages; install them in this environment or use the docker tier)"
            )
        # A working directory of yours stays yours: no drop to `nobody` (who could not
        # write it); as root the pids cgroup bounds processes instead.
        owner = run.drop_target() if self.working_directory is None else None
        scratch = self.working_directory or run.scratch_dir(owner)
        try:
            return self._run(code, scratch, owner, timeout)
        finally:
            if self.working_directory is None:
                run.remove_scratch(scratch)

    def _config(
        self, code_path: str, scratch: str, owner: tuple[int, int] | None, protected: list[str]
    ) -> ChildConfig:
        p = self._policy
        denied = set(NATIVE_MODULES)
        if not p.subprocess_execution:
            denied |= PROCESS_MODULES
        if not p.network_access:
            denied |= NETWORK_MODULES
        write_roots = [scratch, *(str(r) for r in p.filesystem_write_roots or [])]
        readable = [*write_roots, *(str(r) for r in p.filesystem_read_roots or [])]
        return {
            **run.read_rules(protected, readable),
            "kind": "python", "code_path": code_path, "scratch": scratch,
            "write_roots": write_roots,
            "read_roots": None if p.filesystem_read_roots is None
            else [scratch, *(str(r) for r in p.filesystem_read_roots)],
            "allowed_imports": self.allowed_imports, "denied_modules": sorted(denied),
            "network": p.network_access, "subprocess": p.subprocess_execution,
            "drop_to": list(owner) if owner else None,
            "limits": {
                "cpu_seconds": p.cpu_seconds or p.timeout, "memory_bytes": p.memory_max_bytes,
                "file_bytes": p.file_max_bytes, "open_files": p.open_files,
                "processes": p.max_processes if p.subprocess_execution else 0,
            },
        }  # fmt: skip

    def _run(
        self, code: str, scratch: str, owner: tuple[int, int] | None, timeout: float | None
    ) -> ExecutionResult:
        p = self._policy
        code_path = os.path.join(scratch, _CODE_FILE)
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(code)
        if owner is not None:
            os.chown(code_path, *owner)
        before = set(os.listdir(scratch))
        extra = {} if self.suppress_agg else {"MPLBACKEND": "Agg"}
        protected = run.protected_dirs(p)
        outcome = run.run_child(
            self._config(code_path, scratch, owner, protected),
            cwd=scratch, env=run.sandbox_env(p.env_var_access, scratch, extra),
            timeout=float(timeout or p.timeout),
            stdout_cap=min(p.stdout_max_bytes or _HARD_OUTPUT_CAP, _HARD_OUTPUT_CAP),
            stderr_cap=min(p.stderr_max_bytes or _HARD_OUTPUT_CAP, _HARD_OUTPUT_CAP),
            max_pids=p.max_processes,
        )  # fmt: skip
        result = to_result(
            outcome, self.tier, scratch if self.working_directory else None,
            protected=protected,
        )  # fmt: skip
        result.read_protection = run.read_protection("python", protected)
        if result.success:
            result.artifacts = self._export(scratch, before)
        return result

    def _export(self, scratch: str, before: set[str]) -> list[Artifact]:
        wanted = [str(p) for p in self._policy.artifact_export_paths]
        if self.artifact_dir is None and not wanted:
            return []
        names = wanted or sorted(set(os.listdir(scratch)) - before - {_CODE_FILE})
        dest = Path(self.artifact_dir or scratch)
        dest.mkdir(parents=True, exist_ok=True)
        artifacts = []
        for name in names:
            src = Path(scratch) / name
            if not src.is_file() or src.is_symlink():
                continue  # never follow a link the code planted out of the sandbox
            target = dest / src.name
            if target != src:
                shutil.copyfile(src, target)
            kind, _ = mimetypes.guess_type(target.name)
            artifacts.append(Artifact(target, target.stat().st_size, kind))
        return artifacts


def to_result(
    outcome: run.RunOutcome, mode: str, workdir: str | None, protected: Sequence[str] = ()
) -> ExecutionResult:
    """An `ExecutionResult` from a contained run, naming the limit that ended it (a read
    the kernel refused in one of the `protected` directories counts as the policy's)."""
    stdout = outcome.stdout.decode("utf-8", "replace")
    stderr = outcome.stderr.decode("utf-8", "replace")
    limit = outcome.limit
    code = outcome.exit_code
    if limit is None and code is not None and code != 0:
        tail = stderr[-2000:]
        if code in (-24, -9) and "MemoryError" not in tail:  # SIGXCPU, then SIGKILL
            limit = "cpu"
        elif "MemoryError" in tail:
            limit = "memory"
        elif "sandbox policy:" in tail:
            limit = "policy"
        elif "BlockingIOError" in tail and "Resource temporarily unavailable" in tail:
            limit = "processes"
        elif "ermission denied" in tail and any(d in tail for d in protected):
            limit = "policy"
    note = limit_note(limit)
    if limit == "policy" and any(d in stderr[-2000:] for d in protected):
        note = f"{note}: the user's home (and other protected directories) cannot be read"
    if limit == "timeout":
        note = f"{note} ({outcome.duration_s:.1f} s)"
    if outcome.stdout_truncated:
        stdout += "\n[output truncated]"
    if outcome.stderr_truncated:
        stderr += "\n[error output truncated]"
    if code is None and limit is None:
        note = stderr or "the process could not be started"
    return ExecutionResult(
        success=code == 0 and limit is None, stdout=stdout, stderr=stderr, exit_code=code,
        timed_out=limit == "timeout", execution_mode=mode, working_directory=workdir,
        limit=limit, duration_s=outcome.duration_s, error=note,
    )  # fmt: skip


class UnsafeEnvironment(ExecutionEnvironment):
    """`"local_unsafe"`: a plain subprocess of this interpreter — no policy, no isolation.

    It inherits your environment (secrets included) and may touch anything your user can;
    only the timeout (which kills its process group) and the output caps apply. Explicit
    opt-in only: a warning is logged when one is built.
    """

    tier = "local_unsafe"

    def __init__(
        self,
        allowed_imports: list[str] | None = None,
        policy: CapabilityPolicy | None = None,
        working_directory: str | None = None,
        installed_packages: set[str] | None = None,
        failed_packages: set[str] | None = None,
        tier: str | None = None,
    ) -> None:
        super().__init__(allowed_imports, policy, working_directory)
        self.installed_packages = installed_packages if installed_packages is not None else set()
        self.failed_packages = failed_packages if failed_packages is not None else set()
        logger.warning(
            "mellea: the local_unsafe tier runs model-written code WITHOUT isolation "
            "(your environment, files and network); use tier='local' or 'docker' unless "
            "the code is trusted"
        )

    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        report = check_code(code, None, self.allowed_imports)
        if report.syntax_error is not None or report.findings:
            return self._precheck(code, None) or self._skipped("refused")
        scratch = self.working_directory or run.scratch_dir(None)
        limit = float(timeout or (self.policy.timeout if self.policy else 60))
        try:
            outcome = run.run_contained(
                [sys.executable, "-"], cwd=scratch, env=os.environ, timeout=limit,
                stdout_cap=_HARD_OUTPUT_CAP, stderr_cap=_HARD_OUTPUT_CAP,
                stdin=code.encode("utf-8"),
            )  # fmt: skip
        finally:
            if self.working_directory is None:
                run.remove_scratch(scratch)
        result = to_result(outcome, self.tier, self.working_directory)
        result.read_protection = "none"
        return result


__all__ = [
    "ExecutionEnvironment",
    "LocalSandboxEnvironment",
    "StaticAnalysisEnvironment",
    "UnsafeEnvironment",
    "to_result",
]
