"""What model-written code may do: `CapabilityPolicy`, the tiers, and their defaults.

Tiers, from safest to least safe (`ExecutionTier`):

- `"static"` — never runs the code: parses it and checks it against the policy.
- `"local"` — a separate Python process under the policy (the default of `python_tool`):
  rlimits, a wall-clock timeout that ends the whole process group, an environment
  without inherited secrets, a scratch working directory, output caps, imports and
  capabilities checked before it runs and enforced while it runs (an audit hook),
  writes confined to the write roots by the kernel (Landlock, with `mellea[sandbox]`),
  the user's home directory unreadable (Landlock, and the audit hook), and privileges
  dropped to `nobody` (or a pids cgroup) when mellea runs as root.
- `"docker"` — a container through the Docker CLI (`--network none`, read-only root,
  memory / pids / CPU limits, no capabilities, an unprivileged user).
- `"local_unsafe"` / `"docker_unsafe"` — the same process or container *without* the
  policy. Explicit opt-in only; a warning is logged when one is built.

`CapabilityPolicy` keeps the reference's field names. Each `ENFORCED_*` class flag says
whether the `"local"` tier enforces that field (all of them do here; the reference
leaves most declarative). The fields after `packages` are limits of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

ExecutionTier = Literal["static", "local_unsafe", "local", "docker_unsafe", "docker"]
TIERS: tuple[str, ...] = ("static", "local_unsafe", "local", "docker_unsafe", "docker")

_MiB = 1024 * 1024


@dataclass
class Artifact:
    """A file the code wrote in its working directory (copied out after a successful run)."""

    path: Path
    size_bytes: int | None = None
    content_type: str | None = None


@dataclass
class CapabilityPolicy:
    """What code run under this policy may do, and the limits it runs with.

    - `filesystem_read_roots`: None reads anywhere except other processes' `/proc`
      entries and the protected directories below; a list restricts reads to those
      roots (plus the Python installation).
    - `filesystem_write_roots`: None means only the scratch working directory; a list
      adds those roots.
    - `network_access`, `subprocess_execution`, `package_installation`: denied unless
      True. `env_var_access`: False gives the code a minimal environment (PATH, locale,
      HOME/TMPDIR pointing at the scratch directory); True passes the caller's
      environment *minus* anything that looks like a secret.
    - `timeout` (wall clock, seconds), `stdout_max_bytes` / `stderr_max_bytes` (the run
      is stopped once its output passes the cap).
    - `artifact_export_paths`: files (relative to the working directory) to return as
      `Artifact`s; empty means every file the code created.
    - `packages`: packages the code needs; the local tiers never install (they report
      a skipped run naming what is missing), the container tier `pip install`s them
      when `package_installation` is allowed.
    - Ours: `memory_max_bytes` (RLIMIT_AS), `cpu_seconds` (RLIMIT_CPU, default the
      timeout), `max_processes` (RLIMIT_NPROC headroom when subprocesses are allowed),
      `file_max_bytes` (RLIMIT_FSIZE), `open_files` (RLIMIT_NOFILE).
    - Ours: `protect_home` (default True) makes the invoking user's home directory (and
      `/root` when mellea runs as root) unreadable, unlistable and unexecutable for the
      code and the shell tool — `~/.ssh`, `~/.aws`, `~/.netrc`, tokens under
      `~/.config`, `.env` files — except what the run needs (the Python installation
      and venv, the scratch directory) and the roots configured here: a read or write
      root inside a protected directory is readable, and one that contains it lifts
      the protection. `filesystem_read_deny` adds directories to protect the same way.
      Enforced by Landlock for the code and every process it starts where the kernel
      has it; without Landlock only the Python tier's audit hook enforces it (the
      environment's and result's `read_protection` say which).
    """

    filesystem_read_roots: list[Path] | None = None
    filesystem_write_roots: list[Path] | None = None
    network_access: bool = False
    package_installation: bool = False
    subprocess_execution: bool = False
    env_var_access: bool = False
    timeout: int = 30
    stdout_max_bytes: int | None = 1 * _MiB
    stderr_max_bytes: int | None = 1 * _MiB
    artifact_export_paths: list[Path] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    memory_max_bytes: int | None = 1024 * _MiB
    cpu_seconds: int | None = None
    max_processes: int = 32
    file_max_bytes: int | None = 64 * _MiB
    open_files: int = 256
    protect_home: bool = True
    filesystem_read_deny: list[Path] = field(default_factory=list)

    ENFORCED_filesystem_read_roots: ClassVar[bool] = True
    ENFORCED_filesystem_write_roots: ClassVar[bool] = True
    ENFORCED_network_access: ClassVar[bool] = True
    ENFORCED_package_installation: ClassVar[bool] = True
    ENFORCED_subprocess_execution: ClassVar[bool] = True
    ENFORCED_env_var_access: ClassVar[bool] = True
    ENFORCED_timeout: ClassVar[bool] = True
    ENFORCED_stdout_max_bytes: ClassVar[bool] = True
    ENFORCED_stderr_max_bytes: ClassVar[bool] = True
    ENFORCED_artifact_export_paths: ClassVar[bool] = True
    ENFORCED_packages: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {self.timeout!r}")
        for name in ("stdout_max_bytes", "stderr_max_bytes", "memory_max_bytes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 or None, got {value!r}")
        for pkg in self.packages:
            if not isinstance(pkg, str) or not pkg.strip() or pkg.lstrip().startswith("-"):
                raise ValueError(f"not a package name: {pkg!r}")

    def _flags(self) -> dict[str, bool]:
        flags: dict[str, bool] = {}
        for klass in reversed(type(self).__mro__):  # a subclass may override a flag
            for name, value in vars(klass).items():
                if name.startswith("ENFORCED_") and isinstance(value, bool):
                    flags[name.removeprefix("ENFORCED_")] = value
        return flags

    def enforced_capabilities(self) -> list[str]:
        """The fields whose value the `"local"` and `"docker"` tiers enforce."""
        return [name for name, on in self._flags().items() if on]

    def unenforced_capabilities(self) -> list[str]:
        """The fields that are declarations only (none in this implementation)."""
        return [name for name, on in self._flags().items() if not on]


LOCAL_POLICY = CapabilityPolicy()
"""The `"local"` tier's default: no network, no subprocesses, no inherited environment."""

DOCKER_POLICY = CapabilityPolicy(timeout=60, package_installation=True)
"""The `"docker"` tier's default (network stays off; packages install before the run)."""


def _row(execute: bool, policy: bool, docker: bool) -> dict[str, bool]:
    return {
        "execute_code": execute,
        "timeout_enforcement": execute,
        "import_allowlist": True,
        "policy_applied": policy,
        "copy_in": docker,
        "copy_out": execute,
        "package_installation": docker,
        "docker_isolation": docker,
    }


COMPATIBILITY_MATRIX: dict[str, dict[str, bool]] = {
    "static": _row(execute=False, policy=True, docker=False),
    "local_unsafe": _row(execute=True, policy=False, docker=False),
    "local": _row(execute=True, policy=True, docker=False),
    "docker_unsafe": _row(execute=True, policy=False, docker=True),
    "docker": _row(execute=True, policy=True, docker=True),
}
"""What each tier supports (a table for UIs and tests)."""

__all__ = [
    "COMPATIBILITY_MATRIX",
    "DOCKER_POLICY",
    "LOCAL_POLICY",
    "TIERS",
    "Artifact",
    "CapabilityPolicy",
    "ExecutionTier",
]
