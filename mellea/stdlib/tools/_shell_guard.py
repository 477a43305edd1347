"""Guardrails for model-written shell commands, checked before anything runs.

The command is tokenised with the standard library's `shlex` (POSIX rules, with shell
punctuation split out), cut into simple commands at `;`, `&&`, `||`, `|`, `&` and
newlines, and each one is checked:

- forms that hide a command from inspection are refused outright: `$(...)`, backticks,
  process substitution `<(...)` / `>(...)`, `eval`, `source`, here-documents;
- deny list: privilege escalation, nested shells, inline interpreters (`python -c`,
  `perl -e`, ...), account, disk and system administration, and — unless
  `allow_network` — every network client (`curl`, `wget`, `ssh`, `nc`, `git clone`, ...);
- an allow list, when given: every command must be on it;
- writes (redirections and the arguments of `rm`, `mv`, `cp`, `tee`, `touch`, ...) must
  stay inside the working directory or `allowed_paths`.

A wrapper (`env`, `timeout`, `nice`, `nohup`, `xargs`, ...) is looked through to the
command it runs. This is a filter, not a sandbox: it cannot see what a program that is
allowed does once running — which is why the shell runs with the same process limits
as the Python sandbox.
"""

from __future__ import annotations

import os
import shlex

PRIVILEGE = frozenset(
    {"sudo", "su", "doas", "pkexec", "runuser", "setpriv", "chroot", "nsenter", "unshare"}
)
SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "busybox", "script"})
EVALUATORS = frozenset({"eval", "source", ".", "exec", "builtin", "command", "trap"})
SYSTEM = frozenset({
    "passwd", "chpasswd", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod",
    "visudo", "chsh", "chfn", "mkfs", "fdisk", "parted", "mount", "umount", "swapon", "swapoff",
    "shutdown", "reboot", "halt", "poweroff", "init", "systemctl", "service", "crontab",
    "iptables", "ip6tables", "nft", "modprobe", "insmod", "rmmod", "sysctl", "kill", "killall",
    "pkill", "docker", "apt", "apt-get", "dpkg", "dnf", "yum", "snap",
})  # fmt: skip
NETWORK = frozenset({
    "curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "rsync", "ftp",
    "telnet", "ping", "ping6", "dig", "nslookup", "host", "traceroute", "whois", "aria2c",
    "lynx", "links", "w3m", "http", "httpie",
})  # fmt: skip
NETWORK_SUBCOMMANDS = {
    "git": frozenset({"clone", "fetch", "pull", "push", "ls-remote", "submodule", "remote"}),
    "pip": frozenset({"install", "download"}), "pip3": frozenset({"install", "download"}),
    "npm": frozenset({"install", "i", "publish", "ci"}), "uv": frozenset({"pip", "add", "sync"}),
}  # fmt: skip
INTERPRETERS = {  # flags that make them run inline code
    "python": ("-c",), "python3": ("-c",), "perl": ("-e", "-E"), "ruby": ("-e",),
    "node": ("-e", "--eval", "-p"), "php": ("-r",), "lua": ("-e",), "awk": (), "osascript": ("-e",),
}  # fmt: skip
WRAPPERS = frozenset({"env", "timeout", "nice", "nohup", "stdbuf", "ionice", "time", "xargs"})
WRITERS = frozenset({
    "rm", "rmdir", "mv", "cp", "touch", "mkdir", "tee", "ln", "chmod", "chown", "chgrp",
    "truncate", "shred", "install", "dd", "sed", "unlink",
})  # fmt: skip
_OPERATORS = frozenset({";", "&&", "||", "|", "&", "|&", ";;", "\n"})
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})


class ShellPolicyError(ValueError):
    """A command the guardrails refuse (the message says which rule)."""


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:  # unbalanced quotes
        raise ShellPolicyError(f"the command does not parse: {exc}") from None


def _simple_commands(tokens: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _inside(path: str, roots: list[str], cwd: str) -> bool:
    if path in ("/dev/null", "/dev/stdout", "/dev/stderr"):
        return True
    real = os.path.realpath(os.path.join(cwd, os.path.expanduser(path)))
    return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)


def check_command(
    command: str,
    *,
    cwd: str,
    allowed_paths: list[str] | None = None,
    allowed_commands: list[str] | None = None,
    allow_network: bool = False,
) -> list[str]:
    """The names of the commands `command` runs; raises `ShellPolicyError` if refused."""
    if not command.strip():
        raise ShellPolicyError("the command is empty")
    for hidden, what in (("$(", "command substitution"), ("`", "command substitution"),
                         ("<(", "process substitution"), (">(", "process substitution"),
                         ("<<", "here-documents")):  # fmt: skip
        if hidden in command:
            raise ShellPolicyError(f"{what} ({hidden!r}) is not allowed")
    roots = [os.path.realpath(cwd), *(os.path.realpath(p) for p in allowed_paths or [])]
    names: list[str] = []
    for words in _simple_commands(_tokens(command)):
        names.append(_check_simple(words, roots, cwd, allowed_commands, allow_network))
    return names


def _check_simple(
    words: list[str],
    roots: list[str],
    cwd: str,
    allowed_commands: list[str] | None,
    allow_network: bool,
) -> str:
    plain: list[str] = []
    target_of: str | None = None
    for word in words:  # redirections: `> file`, `2> file`, `&> file`, `< file`
        if target_of is not None:
            if target_of != "<" and word != "&" and not _inside(word, roots, cwd):
                raise ShellPolicyError(f"writing to {word!r} (outside the allowed paths)")
            target_of = None
        elif word in _REDIRECTS or word == "<":
            target_of = word
        elif word not in ("(", ")", "&"):
            plain.append(word)
    words = plain
    while words and "=" in words[0] and not words[0].startswith("="):
        words.pop(0)  # VAR=value prefixes
    if not words:
        return ""
    name = os.path.basename(words[0])
    if name in WRAPPERS:
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if name == "timeout" and rest:
            rest = rest[1:]  # the duration
        return _check_simple(rest, roots, cwd, allowed_commands, allow_network) if rest else name
    if allowed_commands is not None and name not in allowed_commands:
        raise ShellPolicyError(f"{name!r} is not on the allowed commands")
    for group, why in ((PRIVILEGE, "privilege escalation"), (SHELLS, "nested shells"),
                       (EVALUATORS, "evaluating strings as commands"),
                       (SYSTEM, "system administration")):  # fmt: skip
        if name in group:
            raise ShellPolicyError(f"{name!r} is not allowed ({why})")
    if not allow_network:
        if name in NETWORK:
            raise ShellPolicyError(f"{name!r} is not allowed (network access)")
        sub = next((w for w in words[1:] if not w.startswith("-")), "")
        if sub in NETWORK_SUBCOMMANDS.get(name, ()):
            raise ShellPolicyError(f"{name} {sub!r} is not allowed (network access)")
    base = name.rstrip("0123456789.")
    flags = INTERPRETERS.get(name, INTERPRETERS.get(base))
    if flags is not None and (name == "awk" or any(w in flags for w in words[1:])):
        if name != "awk" or any("system(" in w or "|" in w for w in words[1:]):
            raise ShellPolicyError(f"{name!r} with inline code is not allowed")
    if name in WRITERS:
        for arg in words[1:]:
            if arg.startswith("-") and name != "dd":
                continue
            path = arg.split("=", 1)[1] if name == "dd" and "=" in arg else arg
            if name == "sed" and not ("/" in path and os.path.exists(os.path.join(cwd, path))):
                continue  # sed's script, not a path
            if ("/" in path or path in ("~", "..", "*")) and not _inside(path, roots, cwd):
                raise ShellPolicyError(f"{name} on {path!r} (outside the allowed paths)")
    return name


__all__ = ["ShellPolicyError", "check_command"]
