"""The container tiers, over the Docker CLI (`docker run`), not a Docker SDK.

`"docker"` runs the code with the container as the boundary: `--network none`, a
read-only root filesystem with a small `/tmp` tmpfs, the scratch directory mounted at
`/work`, `--memory` / `--pids-limit` / `--cpus` from the policy, every capability
dropped, `no-new-privileges`, and the `nobody` user. `"docker_unsafe"` keeps only the
timeout and output caps. The container gets a name, so a timeout removes it (`docker rm
-f`) rather than leaving it running behind a killed CLI process.

Whether a Docker daemon answers is checked on first use, never in a constructor; when
none does, `execute` returns a skipped result that says so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from . import _local_run as run
from ._environments import ExecutionEnvironment, to_result
from ._result import ExecutionResult
from .execution_policy import DOCKER_POLICY, CapabilityPolicy

DEFAULT_IMAGE = "python:3.11-slim"
_CODE_FILE = "main.py"
_HARD_OUTPUT_CAP = 8 * 1024 * 1024


@functools.cache
def docker_unavailable_reason() -> str | None:
    """None when a Docker daemon answers; otherwise why not (cached per process)."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"no Docker daemon answers ({lines[-1] if lines else 'docker info failed'})"
    return None


class LLMSandboxEnvironment(ExecutionEnvironment):
    """The `"docker"` / `"docker_unsafe"` tiers (the reference's class name)."""

    def __init__(
        self,
        allowed_imports: list[str] | None = None,
        policy: CapabilityPolicy | None = None,
        working_directory: str | None = None,
        installed_packages: set[str] | None = None,
        failed_packages: set[str] | None = None,
        tier: str | None = None,
        export_dir: Path | None = None,
        *,
        image: str = DEFAULT_IMAGE,
    ) -> None:
        self.tier = tier or "docker"
        if self.tier not in ("docker", "docker_unsafe"):
            raise ValueError(f"LLMSandboxEnvironment runs the docker tiers, not {tier!r}")
        if policy is None and self.tier == "docker":
            policy = DOCKER_POLICY
        super().__init__(allowed_imports, policy, working_directory)
        self.installed_packages = installed_packages if installed_packages is not None else set()
        self.failed_packages = failed_packages if failed_packages is not None else set()
        self.export_dir = export_dir
        self.image = image

    def docker_argv(self, name: str, scratch: str) -> list[str]:
        """The `docker run` command line for one execution."""
        argv = ["docker", "run", "--rm", "-i", "--name", name]
        argv += ["-v", f"{scratch}:/work:rw", "-w", "/work", "-e", "HOME=/work"]
        p = self.policy
        if self.tier == "docker" and p is not None:
            if not p.network_access:
                argv += ["--network", "none"]
            argv += ["--read-only", "--tmpfs", "/tmp:rw,noexec,size=64m"]
            argv += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
            argv += ["--user", "65534:65534", "--cpus", "1"]
            argv += ["--pids-limit", str(max(p.max_processes, 8))]
            if p.memory_max_bytes:
                argv += [
                    "--memory",
                    str(p.memory_max_bytes),
                    "--memory-swap",
                    str(p.memory_max_bytes),
                ]
        script = f"python -I /work/{_CODE_FILE}"
        pending = [pkg for pkg in (p.packages if p else []) if pkg not in self.installed_packages]
        if pending:
            args = " ".join(f"'{pkg}'" for pkg in pending)
            script = f"pip install -q --target /work/.packages {args} && PYTHONPATH=/work/.packages {script}"
        return [*argv, self.image, "sh", "-c", script]

    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        reason = docker_unavailable_reason()
        if reason is not None:
            return self._skipped(f"the {self.tier} tier needs Docker: {reason}")
        refused = self._precheck(code, self.policy if self.tier == "docker" else None)
        if refused is not None:
            return refused
        p = self.policy
        if p is not None and p.packages and not (p.package_installation and p.network_access):
            if self.tier == "docker":
                return self._skipped(
                    "installing packages needs package_installation and network_access in "
                    "the policy; or use an image that already has them"
                )
        scratch = self.working_directory or run.scratch_dir(None)
        os.chmod(scratch, 0o777)  # the container's nobody user writes here
        name = f"mellea-{uuid.uuid4().hex[:12]}"
        try:
            Path(scratch, _CODE_FILE).write_text(code, encoding="utf-8")
            limit = float(timeout or (p.timeout if p else 60))
            outcome = run.run_contained(
                self.docker_argv(name, scratch), cwd=scratch, env=os.environ, timeout=limit,
                stdout_cap=min((p.stdout_max_bytes if p else None) or _HARD_OUTPUT_CAP, _HARD_OUTPUT_CAP),
                stderr_cap=min((p.stderr_max_bytes if p else None) or _HARD_OUTPUT_CAP, _HARD_OUTPUT_CAP),
            )  # fmt: skip
            if outcome.limit is not None:  # the CLI is gone; the container may not be
                subprocess.run(
                    ["docker", "rm", "-f", name], capture_output=True, timeout=30, check=False
                )
            return to_result(outcome, self.tier, self.working_directory)
        finally:
            if self.working_directory is None:
                run.remove_scratch(scratch)


__all__ = ["DEFAULT_IMAGE", "LLMSandboxEnvironment", "docker_unavailable_reason"]
