"""The sandbox keeps model-written code (and shell commands) out of the user's home.

Real sandboxed processes, no mocks. The protected directory is a fake home that every
user may read (0755 / 0644), so a refusal here comes from mellea's mechanism (the audit
hook, Landlock), not from Unix permissions: each test first shows the same read
succeeding with the protection switched off.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mellea.stdlib.tools import (
    BashEnvironment,
    CapabilityPolicy,
    ExecutionResult,
    LocalSandboxEnvironment,
    UnsafeEnvironment,
)
from mellea.stdlib.tools._local_run import home_directories, landlock_available
from tests.tools._outcomes import record

SECRET = "AKIA-not-a-real-key-0123456789"
NEEDS_LANDLOCK = pytest.mark.skipif(
    not landlock_available(),
    reason="no Landlock here (kernel or the mellea[sandbox] extra): only the Python "
    "tier's audit hook protects the home, not shells or child processes",
)


@pytest.fixture
def home() -> Iterator[Path]:
    """A home-like directory with secrets, readable by every user (not under pytest's
    0700 tmp root, so a sandbox that dropped to `nobody` could read it too)."""
    root = Path(tempfile.mkdtemp(prefix="mellea-fake-home-"))
    try:
        root.chmod(0o755)
        (root / ".ssh").mkdir(mode=0o755)
        for name in (".ssh/id_ed25519", ".netrc", "project/.env", "project/data/ok.txt"):
            path = root / name
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            path.parent.chmod(0o755)
            path.write_text(SECRET if "ok.txt" not in name else "public data")
            path.chmod(0o644)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def python(code: str, policy: CapabilityPolicy) -> ExecutionResult:
    return LocalSandboxEnvironment(policy=policy).execute(code)


def shell(command: str, policy: CapabilityPolicy) -> ExecutionResult:
    return BashEnvironment(timeout=10, policy=policy).execute(command)


def guarded(home: Path, **kwargs: object) -> CapabilityPolicy:
    return CapabilityPolicy(timeout=10, filesystem_read_deny=[home], **kwargs)  # type: ignore[arg-type]


OPEN = CapabilityPolicy(timeout=10, protect_home=False)


def test_python_cannot_read_or_list_a_protected_directory(home: Path) -> None:
    secret = home / ".ssh" / "id_ed25519"
    read = f"print(open({str(secret)!r}).read())"
    assert python(read, OPEN).stdout == SECRET + "\n"  # Unix permissions allow it
    result = python(read, guarded(home))
    record(
        "python/local",
        "open('~/.ssh/id_*').read()",
        SECRET not in (result.stdout or "") + (result.stderr or ""),
        "audit hook refuses the read (Landlock behind it)",
        result.duration_s,
    )
    assert not result.success and result.limit == "policy"
    assert "protected directory" in result.stderr and SECRET not in result.stdout  # type: ignore[operator]
    assert "home" in (result.error or "")
    listing = python(f"import os\nprint(os.listdir({str(home)!r}))", guarded(home))
    walk = python(f"import os\nprint(list(os.walk({str(home)!r})))", guarded(home))
    chdir = python(f"import os\nos.chdir({str(home)!r})\nprint(os.listdir())", guarded(home))
    for refused in (listing, chdir):
        assert not refused.success and ".ssh" not in (refused.stdout or "")
        assert "protected directory" in refused.stderr  # type: ignore[operator]
    assert walk.stdout == "[]\n"  # os.walk swallows the refusal: it finds nothing
    # A link planted in the scratch directory resolves to the same protected file.
    link = python(f"import os\nos.symlink({str(secret)!r}, 'k')\nprint(open('k').read())",
                  guarded(home))  # fmt: skip
    assert not link.success and SECRET not in (link.stdout or "")


@NEEDS_LANDLOCK
def test_processes_the_code_starts_cannot_read_it_either(home: Path) -> None:
    code = (
        "import subprocess\n"
        f"p = subprocess.run(['cat', {str(home / '.netrc')!r}], capture_output=True, text=True)\n"
        "print(p.returncode, p.stdout, p.stderr)"
    )
    allowed = python(
        code, CapabilityPolicy(timeout=10, protect_home=False, subprocess_execution=True)
    )
    assert allowed.stdout.startswith("0 " + SECRET)  # type: ignore[union-attr]
    result = python(code, guarded(home, subprocess_execution=True))
    record(
        "python/local",
        "subprocess cat ~/.netrc (no audit hook in the child)",
        SECRET not in (result.stdout or ""),
        "Landlock (kernel) refuses the read",
        result.duration_s,
    )
    assert result.success and SECRET not in result.stdout and "Permission denied" in result.stdout  # type: ignore[operator]
    assert result.read_protection == "kernel"


@NEEDS_LANDLOCK
def test_shell_cannot_read_or_list_a_protected_directory(home: Path) -> None:
    secret = home / "project" / ".env"
    assert shell(f"cat {secret}", OPEN).stdout == SECRET  # Unix permissions allow it
    result = shell(f"cat {secret}", guarded(home))
    record(
        "shell",
        "cat ~/project/.env",
        SECRET not in (result.stdout or ""),
        "Landlock (kernel) refuses the read",
        result.duration_s,
    )
    assert not result.success and SECRET not in (result.stdout or "")
    assert "Permission denied" in result.stderr and result.limit == "policy"  # type: ignore[operator]
    assert "home" in (result.error or "") and result.read_protection == "kernel"
    listing = shell(f"ls -a {home} {home}/.ssh; grep -r AKIA {home}", guarded(home))
    assert ".ssh" not in (listing.stdout or "") and "AKIA" not in (listing.stdout or "")
    # Ordinary commands still work: system files, tools, the working directory.
    ok = shell("ls /usr/bin | head -1 && grep -c root /etc/passwd && echo hi > x && cat x",
               guarded(home))  # fmt: skip
    assert ok.success and ok.stdout.endswith("hi\n")  # type: ignore[union-attr]


def test_configured_roots_inside_a_protected_directory_stay_readable(home: Path) -> None:
    data = home / "project" / "data"
    policy = guarded(home, filesystem_read_roots=[data])
    result = python(f"print(open({str(data / 'ok.txt')!r}).read())", policy)
    assert result.success and result.stdout == "public data\n"
    secret = python(f"print(open({str(home / '.netrc')!r}).read())", policy)
    assert not secret.success and SECRET not in (secret.stdout or "")
    if landlock_available():
        assert shell(f"cat {data}/ok.txt", policy).stdout == "public data"
        assert SECRET not in (shell(f"cat {home}/.netrc", policy).stdout or "")
    # A working directory of the caller's inside the protected tree is theirs to use.
    work = home / "project" / "data"
    inside = LocalSandboxEnvironment(policy=guarded(home), working_directory=str(work))
    assert inside.execute("print(open('ok.txt').read())").stdout == "public data\n"


def test_the_default_policy_protects_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(home))
    assert str(home) in home_directories()
    if os.geteuid() == 0:
        assert "/root" in home_directories()
    default = CapabilityPolicy(timeout=10)
    result = python(f"print(open({str(home / '.netrc')!r}).read())", default)
    assert not result.success and result.limit == "policy"
    assert SECRET not in (result.stdout or "")
    expected = "kernel" if landlock_available() else "audit-hook"
    assert result.read_protection == expected
    assert LocalSandboxEnvironment().read_protection == expected
    assert BashEnvironment().read_protection == ("kernel" if landlock_available() else "none")


def test_ordinary_code_still_runs_with_the_interpreter_inside_a_protected_tree(
    home: Path,
) -> None:
    # Protect the directory holding this venv (and, as root, /root holds pyenv's Python):
    # the stdlib, site-packages and the scratch directory must stay readable.
    around_venv = Path(sys.prefix).resolve().parent
    deny = [home, around_venv] if str(around_venv) != "/" else [home]
    code = (
        "import json, decimal, sqlite3, email.mime.text, zoneinfo, csv, pydantic\n"
        "open('in.txt', 'w').write('scratch ok')\n"
        "print(open('in.txt').read(), json.dumps([1]), sqlite3.connect(':memory:') is not None)"
    )
    result = python(code, CapabilityPolicy(timeout=20, filesystem_read_deny=deny))  # type: ignore[arg-type]
    assert result.success, result.stderr
    assert result.stdout == "scratch ok [1] True\n"


def test_local_unsafe_is_the_explicit_opt_out(home: Path) -> None:
    result = UnsafeEnvironment().execute(f"print(open({str(home / '.netrc')!r}).read())")
    assert result.success and result.stdout == SECRET + "\n"
    assert result.read_protection == "none"
