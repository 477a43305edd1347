"""The first code a sandboxed process runs (`python -I -B _sandbox_child.py CONFIG_JSON`).

Standard library only, and nothing from mellea: it runs in a fresh interpreter started
by `_local_run.py`, in its own session (process group), with a scrubbed environment and
the scratch directory as its working directory. In order, it:

1. lowers its resource limits (CPU seconds, address space, file size, open files, core
   dumps, and the number of processes of its user);
2. when started as root, drops to `nobody` (kernel-enforced: no writes outside
   world-writable places and the scratch directory it was given, no signals to other
   users' processes, and the process limit counts only sandboxed processes) — or, where
   `nobody` could not read the Python installation, joins a pids cgroup instead;
3. applies Landlock (kernel-enforced, where the kernel and the `landlock` package from
   `mellea[sandbox]` are there): files may be created, changed or removed only under the
   write roots, and the protected directories (the user's home) may not be read, listed
   or executed from, except the paths the run needs — for the shell too, and for every
   child process. Landlock only allows, so reads are granted on every entry of `/` but
   the protected trees (walking down the ancestors of one, granting their other
   entries), then on the needed paths inside them. Where the parent expects Landlock
   and it cannot be applied, the run is refused rather than run unconfined;
4. installs a PEP 578 audit hook that vetoes what the policy denies: file writes outside
   the write roots, reads and listings of the protected directories, reads of other
   processes' `/proc` entries (their environment), sockets, process creation, signals,
   native-code modules (`ctypes`), and imports by the model's code outside the
   allowlist;
5. runs the code (Python as `__main__`, or `exec`s bash for the shell tool).

An audit hook is a tripwire, not a security boundary (CPython's own documentation says
so): code that reaches native memory can remove it. That is why native-code modules are
refused (statically before the run, and here), why the limits, the process group and
(with Landlock) the write roots are enforced by the kernel, and why the `"docker"` tier
exists for untrusted workloads.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
import types

TYPE_CHECKING = False  # (not `typing.TYPE_CHECKING`: importing typing costs every run ~5 ms)
if TYPE_CHECKING:
    from typing import Literal, TypedDict

    class ChildConfig(TypedDict, total=False):
        """The run `_local_run.run_child` hands over (as JSON), with its policy."""

        kind: Literal["python", "shell"]
        limits: dict[str, int | None]  # `_set_limits`: cpu_seconds, memory_bytes, ...
        drop_to: list[int] | None  # [uid, gid] to drop to, when started as root
        cgroup: str | None  # the pids cgroup to join instead
        write_roots: list[str]
        read_deny: list[str]  # the protected directories (real paths)
        read_allow: list[str]  # configured roots readable even inside them
        landlock: bool  # the parent expects Landlock: refuse to run without it
        # Python runs
        code_path: str
        scratch: str
        read_roots: list[str] | None
        allowed_imports: list[str] | None
        denied_modules: list[str]
        network: bool
        subprocess: bool
        # shell runs
        shell: str
        command: str


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_PROCESS_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
    "subprocess.Popen", "os.startfile", "pty.spawn",
})  # fmt: skip
_NETWORK_EVENTS = frozenset({
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.gethostbyname_ex", "urllib.Request", "webbrowser.open",
})  # fmt: skip
# (event, index of the path argument(s)) for filesystem changes.
_WRITE_EVENTS: dict[str, tuple[int, ...]] = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
    "os.symlink": (1,), "os.link": (1,), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "os.chflags": (0,), "os.lchflags": (0,),
    "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,),
    "shutil.copyfile": (1,), "shutil.copymode": (1,), "shutil.copystat": (1,),
    "shutil.copytree": (1,), "shutil.move": (0, 1), "shutil.chown": (0,),
    "os.mkfifo": (0,), "os.mknod": (0,), "sqlite3.connect": (0,),
}  # fmt: skip


class PolicyViolation(PermissionError):
    """Raised inside the sandboxed code when it tries something the policy denies."""


def _set_limits(limits: dict[str, int | None], uid: int) -> None:
    def lower(which: int, value: int | None, hard_extra: int = 0) -> None:
        if value is None:
            return
        _, hard = resource.getrlimit(which)
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        new_hard = soft + hard_extra
        if hard != resource.RLIM_INFINITY:
            new_hard = min(new_hard, hard)
        resource.setrlimit(which, (soft, new_hard))

    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_CPU, limits.get("cpu_seconds"), hard_extra=1)  # SIGXCPU, then KILL
    lower(resource.RLIMIT_AS, limits.get("memory_bytes"))
    lower(resource.RLIMIT_FSIZE, limits.get("file_bytes"))
    lower(resource.RLIMIT_NOFILE, limits.get("open_files"))
    headroom = limits.get("processes")
    if headroom is not None:
        # RLIMIT_NPROC counts every task of the real user, so the limit is what that user
        # runs already plus the headroom. (Root ignores it: we drop root first.)
        lower(resource.RLIMIT_NPROC, _tasks_of(uid) + headroom)


def _tasks_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def _drop_root(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _needed_paths() -> list[str]:
    """What this interpreter reads after start-up: its installation, the venv, `sys.path`
    (site-packages, `.pth` additions) and this file's directory."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths |= {p for p in sys.path if os.path.isabs(p)}
    paths.add(os.path.dirname(os.path.abspath(__file__)))
    return sorted(os.path.realpath(p) for p in paths)


def _apply_landlock(write_roots: list[str], read_deny: list[str], read_allow: list[str]) -> bool:
    """Kernel-enforced: from here on this process and its children may create, change or
    delete files only under `write_roots` (and write to /dev/null), and may not read,
    list or execute anything in `read_deny` but `read_allow`, the write roots and the
    needed paths. False where the `landlock` package or the kernel support is missing.
    """
    try:
        from landlock import FSAccess, Ruleset, landlock_abi_version

        if landlock_abi_version() < 1:
            return False
        reads = FSAccess.READ_FILE | FSAccess.READ_DIR | FSAccess.EXECUTE
        handled = FSAccess.all() if read_deny else FSAccess.all() & ~reads
        ruleset = Ruleset(restrict_rules=handled)
        file_rights = FSAccess.all_file()
    except Exception:  # not installed, not Linux, or the kernel has no Landlock
        return False

    def allow(path: str, rights: FSAccess) -> None:
        try:
            if not os.path.isdir(path):
                rights &= file_rights  # directory rights on a file are an error
            ruleset.allow(path, rules=rights & handled)
        except OSError:
            pass  # gone, or not ours to open: nothing to grant

    def allow_beside(directory: str) -> None:
        # Every entry of `directory` but the protected trees; an entry holding one is
        # walked in turn (granting a directory grants everything below it).
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            holds = any(d.startswith(real.rstrip("/") + "/") for d in read_deny)
            if _under(real, read_deny) or (holds and real != path):
                continue  # protected, or a link to (an ancestor of) a protected tree
            if holds:
                allow_beside(path)
            else:
                allow(path, reads)

    try:
        if read_deny:
            allow_beside("/")
            for path in [*_needed_paths(), *read_allow]:
                allow(path, reads)
        for root in write_roots:
            if os.path.isdir(root):
                allow(root, handled)
        allow("/dev/null", FSAccess.WRITE_FILE | FSAccess.READ_FILE)
        ruleset.apply()
    except Exception:
        return False
    return True


def _install_hook(cfg: ChildConfig) -> None:
    write_roots = [os.path.realpath(p) for p in cfg["write_roots"]]
    protected = [os.path.realpath(p) for p in cfg.get("read_deny", [])]
    readable = [*write_roots, *_needed_paths()]
    readable += [os.path.realpath(p) for p in cfg.get("read_allow", [])]
    read_roots_cfg = cfg.get("read_roots")
    read_roots = None if read_roots_cfg is None else [os.path.realpath(p) for p in read_roots_cfg]
    allowed = cfg.get("allowed_imports")
    allowed_tops = None if allowed is None else {a.split(".")[0] for a in allowed}
    denied_tops = set(cfg.get("denied_modules", []))
    network = bool(cfg.get("network"))
    processes = bool(cfg.get("subprocess"))
    user_file = str(cfg["code_path"])
    trusted = sorted(
        {
            os.path.realpath(p)
            for p in [*sys.path, os.path.dirname(__file__)]
            if p and os.path.isabs(p)
        }
        - {os.path.realpath(str(cfg["scratch"]))},
        key=len,
        reverse=True,
    )
    own_pid = os.getpid()
    getframe = sys._getframe

    def user_initiated() -> bool:
        # The nearest frame that is not import or ctypes machinery decides: model code
        # (or code it compiled itself) is "user"; installed libraries are not.
        frame: types.FrameType | None = getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith("<frozen ") or "/importlib/" in name or "/ctypes/" in name:
                frame = frame.f_back
                continue
            if name == user_file:
                return True
            real = os.path.realpath(name) if os.path.isabs(name) else name
            return not any(real.startswith(root + "/") for root in trusted)
        return True

    def resolve(path: object) -> str | None:
        if not isinstance(path, str | bytes | os.PathLike):
            return None
        text = os.fsdecode(path)
        return os.path.realpath(os.path.join(os.getcwd(), text))

    def check_protected(real: str) -> None:
        if _under(real, protected) and not _under(real, readable):
            deny(f"reading {real!r} (a protected directory such as the user's home)")

    def deny(what: str) -> None:
        raise PolicyViolation(f"sandbox policy: {what} is not allowed")

    def check_write(path: object) -> None:
        real = resolve(path)
        if real is not None and not _under(real, write_roots) and real != "/dev/null":
            deny(f"writing {real!r} (outside the working directory)")

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writes = isinstance(flags, int) and flags & _WRITE_FLAGS
            if isinstance(mode, str) and any(c in mode for c in "wax+"):
                writes = True
            if writes:
                check_write(path)
                return
            real = resolve(path)
            if real is None:
                return
            parts = real.split("/")
            if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit():
                if int(parts[2]) != own_pid:
                    deny(f"reading {real!r} (another process)")
                return
            check_protected(real)
            if read_roots is not None and not (
                _under(real, read_roots) or _under(real, write_roots) or _under(real, trusted)
            ):
                deny(f"reading {real!r} (outside the readable roots)")
        elif event in ("os.listdir", "os.scandir") and protected:
            real = resolve("." if args[0] is None else args[0])  # (an fd is not a path)
            if real is not None:
                check_protected(real)
        elif event in _WRITE_EVENTS:
            for index in _WRITE_EVENTS[event]:
                if index < len(args):
                    check_write(args[index])
        elif event == "import":
            top = str(args[0]).split(".")[0]
            if top in denied_tops or (allowed_tops is not None and top not in allowed_tops):
                if user_initiated():
                    raise ImportError(f"sandbox policy: import of {top!r} is not allowed")
        elif event.startswith("ctypes.") and user_initiated():
            deny("native code through ctypes")
        elif event in _PROCESS_EVENTS and not processes:
            deny("starting a process")
        elif event in ("os.kill", "os.killpg"):
            target = args[0]
            if target != own_pid and (not processes or target in (0, os.getppid())):
                deny(f"sending a signal to process {target}")
        elif event in _NETWORK_EVENTS and not network:
            if event == "socket.__new__" and not user_initiated():
                return  # libraries may create sockets they never connect (asyncio)
            deny("network access")
        elif event == "sys.unraisablehook":
            return

    sys.addaudithook(hook)


def _run_python(code_path: str) -> None:
    with open(code_path, encoding="utf-8") as f:
        source = f.read()
    code = compile(source, code_path, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = code_path
    main.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None  # hide this frame
        traceback.print_exception(type(exc), exc, tb)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def main() -> None:
    cfg: ChildConfig = json.loads(sys.argv[1])
    drop = cfg.get("drop_to")
    uid = drop[0] if drop else os.getuid()
    cgroup = cfg.get("cgroup")
    if cgroup:  # root that cannot drop: the pids cgroup bounds its processes
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    if drop:
        _drop_root(drop[0], drop[1])
    _set_limits(cfg["limits"], uid)
    read_deny = [str(d) for d in cfg.get("read_deny", [])]
    if cfg.get("write_roots") or read_deny:
        applied = _apply_landlock(
            [str(r) for r in cfg.get("write_roots", [])], read_deny,
            [str(r) for r in cfg.get("read_allow", [])],
        )  # fmt: skip
        if cfg.get("landlock") and not applied:
            sys.stderr.write("sandbox policy: Landlock could not be applied; not running\n")
            sys.stderr.flush()
            os._exit(126)
    if cfg.get("kind") == "shell":
        os.execv(cfg["shell"], [cfg["shell"], "--noprofile", "--norc", "-c", cfg["command"]])
    _install_hook(cfg)
    _run_python(cfg["code_path"])


if __name__ == "__main__":
    main()
