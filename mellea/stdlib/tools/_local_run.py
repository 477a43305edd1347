"""Running a command in its own process group, with a deadline and capped output.

`run_contained` is the one place that starts sandboxed processes (the Python tiers and
the shell tool). Whatever happens, the caller gets a `RunOutcome` back by the deadline:

- the process starts in a new session (`start_new_session`), so its whole process group
  can be killed at once — on timeout, when its output passes the cap, and once more
  after it exits, so no child it started outlives the call;
- stdout and stderr are read as they come (no pipe can fill and stall the process), up to
  their caps; past a cap the group is killed at once (a 100 MB print costs ~1 MB);
- once the process exits, or is killed, reading stops at EOF or after a short grace
  period, whichever is first (a descendant that escaped the group cannot hold the
  caller).

`sandbox_env` builds the scrubbed environment, `scratch_dir` the working directory,
`protected_dirs` the directories sandboxed code may not read (the user's home), and
`read_protection` says who enforces that here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import pwd
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from ._sandbox_child import ChildConfig
    from .execution_policy import CapabilityPolicy

logger = logging.getLogger("mellea")

_GRACE_S = 0.5
_NOBODY = 65534
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT", re.IGNORECASE
)
_BASE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM")
_QUIET_THREADS = {  # numeric libraries: one thread each (CPU limits, the process limit)
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}  # fmt: skip


@dataclass
class RunOutcome:
    """How a contained run ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    """The exit status; negative: the signal that ended it; None: it never started."""
    duration_s: float
    limit: str | None = None
    """`"timeout"` or `"stdout"` / `"stderr"` (output cap) when mellea stopped the run."""
    stdout_truncated: bool = False
    stderr_truncated: bool = False


def sandbox_env(
    inherit: bool, scratch: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of sandboxed code: minimal, or the caller's without secrets."""
    if inherit:
        env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
    else:
        env = {k: os.environ[k] for k in _BASE_ENV if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=scratch, TMPDIR=scratch, PYTHONDONTWRITEBYTECODE="1")
    env.update(PYTHONIOENCODING="utf-8", **_QUIET_THREADS)
    env.update(extra or {})
    return env


@functools.cache
def drop_target() -> tuple[int, int] | None:
    """The (uid, gid) to drop to: `nobody` when running as root, else None.

    Only when `nobody` can read this Python installation (a pyenv under /root cannot
    be): otherwise the sandbox stays root and relies on its audit hook and limits —
    except RLIMIT_NPROC, which the kernel never applies to root.
    """
    if os.geteuid() != 0:
        return None
    paths = {sys.base_prefix, sys.prefix, *(p for p in sys.path if p.endswith("site-packages"))}
    for path in paths:
        current = os.path.realpath(path)
        while True:
            try:
                if os.stat(current).st_mode & 0o005 != 0o005:
                    return None
            except OSError:
                return None
            if current == "/":
                break
            current = os.path.dirname(current)
    return (_NOBODY, _NOBODY)


_CGROUP_BASES = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


def pids_cgroup(max_pids: int) -> str | None:
    """A fresh pids cgroup capped at `max_pids`, when root cannot drop privileges.

    The kernel never applies RLIMIT_NPROC to root, so a root sandbox that cannot become
    `nobody` joins this cgroup instead (the child writes itself into `cgroup.procs`
    before running anything). It also lets `release_cgroup` kill every process the run
    left, even one that left the process group. None where no pids controller is
    writable (the process group and the audit hook still apply).
    """
    if os.geteuid() != 0 or drop_target() is not None:
        return None
    for base in _CGROUP_BASES:
        path = os.path.join(base, f"mellea-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.mkdir(path)
        except OSError:
            continue
        try:
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(max_pids))
            return path
        except OSError:
            os.rmdir(path)
    return None


@functools.cache
def process_limit_enforced() -> bool:
    """Whether sandboxed processes can be bounded in number here.

    True for a non-root user (RLIMIT_NPROC), for root that can drop to `nobody`, and for
    root with a writable pids cgroup; False otherwise (e.g. root in a container without
    cgroup access) — then only the timeout ends a process storm.
    """
    if os.geteuid() != 0 or drop_target() is not None:
        return True
    probe = pids_cgroup(1)
    release_cgroup(probe)
    if probe is None:
        logger.warning(
            "mellea: running as root without a writable pids cgroup: sandboxed code that may "
            "start processes is bounded only by its timeout"
        )
    return probe is not None


def release_cgroup(path: str | None) -> None:
    """Kill whatever is left in the cgroup, then remove it."""
    if path is None:
        return
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(line) for line in f if line.strip()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.02)


def scratch_dir(owner: tuple[int, int] | None) -> str:
    """A fresh private working directory (owned by `owner` when privileges are dropped)."""
    path = tempfile.mkdtemp(prefix="mellea-sandbox-")
    if owner is not None:
        os.chown(path, *owner)
    return path


def remove_scratch(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_contained(
    argv: Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    timeout: float,
    stdout_cap: int,
    stderr_cap: int,
    stdin: bytes | None = None,
) -> RunOutcome:
    """Run `argv` contained as the module docstring says (never raises for the run itself)."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), start_new_session=True, close_fds=True,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
    except OSError as exc:
        return RunOutcome(b"", f"could not start {argv[0]}: {exc}".encode(), None, 0.0)
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except OSError:
            pass
    assert proc.stdout is not None and proc.stderr is not None
    caps = {proc.stdout: stdout_cap, proc.stderr: stderr_cap}
    names = {proc.stdout: "stdout", proc.stderr: "stderr"}
    chunks: dict[IO[bytes], list[bytes]] = {proc.stdout: [], proc.stderr: []}
    sizes = dict.fromkeys(chunks, 0)
    truncated = dict.fromkeys(chunks, False)
    limit: str | None = None
    deadline = start + timeout
    hard_stop: float | None = None  # set once killed: stop reading after the grace
    with selectors.DefaultSelector() as sel:
        for pipe in chunks:
            os.set_blocking(pipe.fileno(), False)
            sel.register(pipe, selectors.EVENT_READ)
        while sel.get_map():
            now = time.monotonic()
            if hard_stop is None and now >= deadline:
                limit = "timeout"
                _kill_group(proc.pid)
                hard_stop = now + _GRACE_S
            if hard_stop is not None and now >= hard_stop:
                break
            if hard_stop is None and proc.poll() is not None:
                # It exited: whatever it left running goes too (it may hold the pipes).
                _kill_group(proc.pid)
                hard_stop = now + _GRACE_S
            wait = (hard_stop if hard_stop is not None else deadline) - now
            for key, _ in sel.select(max(0.0, min(wait, 0.25))):
                pipe = cast("IO[bytes]", key.fileobj)
                try:
                    data = os.read(pipe.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(pipe)
                    continue
                room = caps[pipe] - sizes[pipe]
                if len(data) > room:
                    data, truncated[pipe] = data[: max(room, 0)], True
                chunks[pipe].append(data)
                sizes[pipe] += len(data)
                if truncated[pipe] and hard_stop is None:
                    limit = names[pipe]
                    _kill_group(proc.pid)
                    hard_stop = time.monotonic() + _GRACE_S
    if hard_stop is None and proc.poll() is None:
        # Both pipes closed but the process lingers: give it until the deadline.
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            limit = "timeout"
    _kill_group(proc.pid)  # whatever it left running in its group
    exit_code = proc.wait()
    for pipe in chunks:
        pipe.close()
    return RunOutcome(
        b"".join(chunks[proc.stdout]), b"".join(chunks[proc.stderr]), exit_code,
        time.monotonic() - start, limit, truncated[proc.stdout], truncated[proc.stderr],
    )  # fmt: skip


_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox_child.py")


@functools.cache
def landlock_available() -> bool:
    """Whether the sandbox child can apply Landlock (the package and the kernel)."""
    try:
        from landlock import landlock_abi_version

        return bool(landlock_abi_version() >= 1)
    except Exception:
        return False


def home_directories() -> list[str]:
    """The homes sandboxed code must not read: the invoking user's (`$HOME` and the
    password database), the `sudo` caller's, and `/root` when running as root."""
    homes = {os.environ.get("HOME", "")}
    for user in (os.getuid(), os.environ.get("SUDO_USER")):
        try:
            entry = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user or "")
        except KeyError:
            continue
        homes.add(entry.pw_dir)
    if os.geteuid() == 0:
        homes.add("/root")
    return sorted(os.path.realpath(h) for h in homes if os.path.isabs(h))


def protected_dirs(policy: CapabilityPolicy) -> list[str]:
    """What `policy` makes unreadable: the homes (`protect_home`) and `filesystem_read_deny`.

    Never `/` (a home of `/`, as some service accounts have, protects nothing).
    """
    dirs = [os.path.realpath(p) for p in policy.filesystem_read_deny]
    if policy.protect_home:
        dirs += home_directories()
    return sorted({d for d in dirs if d != "/"})


def read_protection(kind: Literal["python", "shell"], protected: Sequence[str]) -> str:
    """Who keeps sandboxed code out of the `protected` directories here.

    `"kernel"`: Landlock, for the code and every process it starts. `"audit-hook"`: no
    Landlock, so only the Python tier's audit hook, for the code's own reads (a process
    it starts is not covered). `"none"`: nothing protected, or a shell without Landlock.
    """
    if not protected:
        return "none"
    if landlock_available():
        return "kernel"
    _warn_reads_unconfined()
    return "audit-hook" if kind == "python" else "none"


def read_rules(protected: Sequence[str], readable: Sequence[str]) -> ChildConfig:
    """The child's read protection: the `protected` directories (`protected_dirs`), the
    configured roots readable even inside them, and whether Landlock must apply."""
    return {
        "read_deny": list(protected), "read_allow": [str(r) for r in readable],
        "landlock": landlock_available(),
    }  # fmt: skip


@functools.cache
def _warn_reads_unconfined() -> None:
    logger.warning(
        "mellea: no Landlock here (kernel support or the mellea[sandbox] extra is missing): "
        "the home directory is kept from sandboxed Python code by its audit hook only, and "
        "NOT from shell commands or processes the code starts"
    )


def run_child(
    config: ChildConfig,
    *,
    cwd: str,
    env: Mapping[str, str],
    timeout: float,
    stdout_cap: int,
    stderr_cap: int,
    max_pids: int,
) -> RunOutcome:
    """Run `_sandbox_child.py` with `config` contained (in a pids cgroup where needed)."""
    cgroup = None
    if config.get("drop_to") is None and process_limit_enforced():
        cgroup = pids_cgroup(max_pids)
    argv = [sys.executable, "-I", "-B", _CHILD, json.dumps({**config, "cgroup": cgroup})]
    try:
        return run_contained(
            argv, cwd=cwd, env=env, timeout=timeout, stdout_cap=stdout_cap, stderr_cap=stderr_cap
        )
    finally:
        release_cgroup(cgroup)


__all__ = [
    "RunOutcome",
    "drop_target",
    "home_directories",
    "landlock_available",
    "pids_cgroup",
    "process_limit_enforced",
    "protected_dirs",
    "read_protection",
    "read_rules",
    "release_cgroup",
    "remove_scratch",
    "run_child",
    "run_contained",
    "sandbox_env",
    "scratch_dir",
]  # fmt: skip
