"""Checking Python code against a policy without running it (the `ast` module).

`check_code` parses the code and lists what the policy forbids: imports outside the
allowlist, modules that reach past the sandbox (native code, process spawning, sockets)
and calls that spawn or signal processes. The `"static"` tier stops here; the `"local"`
and `"docker"` tiers refuse to run code with findings, then enforce the same policy
while it runs (see `_sandbox_child.py`).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field

from .execution_policy import CapabilityPolicy

NATIVE_MODULES = frozenset({"ctypes", "_ctypes", "cffi", "_posixsubprocess"})
"""Never importable by model code: they bypass every in-process check."""
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty", "pexpect", "sh"})
NETWORK_MODULES = frozenset({
    "socket", "ssl", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "socketserver",
    "requests", "httpx", "aiohttp", "urllib3", "websocket", "websockets", "paramiko",
})  # fmt: skip
NETWORK_SUBMODULES = frozenset({"urllib.request", "http.client", "http.server", "xmlrpc.client"})
PROCESS_CALLS = frozenset({
    "system", "popen", "fork", "forkpty", "kill", "killpg", "startfile",
    "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe",
    "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
    "posix_spawn", "posix_spawnp",
})  # fmt: skip
"""`os.<name>` calls that start or signal processes."""


@dataclass
class StaticReport:
    """What `check_code` found: the parse tree (or the syntax error) and the findings."""

    tree: ast.Module | None
    syntax_error: SyntaxError | None = None
    imports: list[str] = field(default_factory=list)
    """Every module the code imports, as written (`os.path`, `numpy`)."""
    findings: list[str] = field(default_factory=list)
    """Human-readable policy violations; empty means the code may run."""

    @property
    def ok(self) -> bool:
        return self.syntax_error is None and not self.findings


def parse(code: str) -> ast.Module | SyntaxError:
    """The module's parse tree, or the `SyntaxError` (never raises for bad code)."""
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        return exc
    except ValueError as exc:  # e.g. NUL bytes in the source
        return SyntaxError(str(exc))


def imported_modules(tree: ast.AST) -> list[str]:
    """Modules named by `import` / `from ... import` statements (relative ones as `.x`)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            if node.module:  # `from os import system` also names os.system
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def import_findings(imports: list[str], allowed_imports: list[str] | None) -> list[str]:
    """Imports outside `allowed_imports` (top-level names; None allows any)."""
    if allowed_imports is None:
        return []
    allowed = {_top(a) for a in allowed_imports}
    bad = sorted({_top(n) for n in imports if n and _top(n) and _top(n) not in allowed})
    relative = sorted({n for n in imports if n.startswith(".")})
    found = [f"import of {name!r} is not in the allowed imports" for name in bad]
    found += [f"relative import {name!r} is not allowed" for name in relative]
    return found


def capability_findings(tree: ast.AST, imports: list[str], policy: CapabilityPolicy) -> list[str]:
    """Imports and calls the policy's capabilities forbid."""
    found: list[str] = []
    tops = {_top(n) for n in imports}
    for name in sorted(tops & NATIVE_MODULES):
        found.append(f"import of {name!r} is never allowed (native code escapes the sandbox)")
    if not policy.subprocess_execution:
        for name in sorted(tops & PROCESS_MODULES):
            found.append(f"import of {name!r}: starting processes is not allowed")
    if not policy.network_access:
        net = (tops & NETWORK_MODULES) | {n for n in imports if n in NETWORK_SUBMODULES}
        for name in sorted(net):
            found.append(f"import of {name!r}: network access is not allowed")
    if not policy.subprocess_execution:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "os"
                and node.func.attr in PROCESS_CALLS
            ):
                found.append(
                    f"line {node.lineno}: os.{node.func.attr}() starts or signals a process, "
                    "which is not allowed"
                )
    return found


def check_code(
    code: str,
    policy: CapabilityPolicy | None,
    allowed_imports: list[str] | None,
) -> StaticReport:
    """Parse `code` and list its violations of `allowed_imports` and `policy`."""
    tree = parse(code)
    if isinstance(tree, SyntaxError):
        return StaticReport(None, syntax_error=tree)
    imports = imported_modules(tree)
    findings = import_findings(imports, allowed_imports)
    if policy is not None:
        findings += capability_findings(tree, imports, policy)
    return StaticReport(tree, imports=imports, findings=findings)


def missing_packages(packages: list[str]) -> list[str]:
    """The `packages` this interpreter cannot import (by distribution-ish name)."""
    import importlib.util

    missing = []
    for spec in packages:
        name = spec.split("[")[0].split("=")[0].split("<")[0].split(">")[0].split("@")[0]
        module = name.strip().replace("-", "_")
        if module and importlib.util.find_spec(module) is None:
            missing.append(spec)
    return missing


STDLIB_MODULES = frozenset(sys.stdlib_module_names)

__all__ = [
    "NATIVE_MODULES",
    "NETWORK_MODULES",
    "PROCESS_MODULES",
    "STDLIB_MODULES",
    "StaticReport",
    "capability_findings",
    "check_code",
    "import_findings",
    "imported_modules",
    "missing_packages",
    "parse",
]
