"""The shell tool: guardrails refuse before anything runs; what runs is contained."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from mellea.stdlib.tools import BashEnvironment, StaticBashEnvironment, bash_executor
from mellea.stdlib.tools._local_run import process_limit_enforced
from mellea.stdlib.tools._shell_guard import ShellPolicyError, check_command
from tests.tools._outcomes import record


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("sudo ls", "privilege escalation"),
        ("bash -c 'ls'", "nested shells"),
        ("env FOO=1 sh script.sh", "nested shells"),
        ("timeout 5 curl https://example.com", "network access"),
        ("git clone https://example.com/x.git", "network access"),
        ("pip install requests", "network access"),
        ("ls | xargs wget", "network access"),
        ("python3 -c 'print(1)'", "inline code"),
        ("echo $(cat /etc/passwd)", "command substitution"),
        ("cat `which ls`", "command substitution"),
        ("diff <(ls) <(ls -a)", "process substitution"),
        ("eval 'rm -rf /'", "evaluating strings"),
        ("rm -rf /", "outside the allowed paths"),
        ("rm -rf ~", "outside the allowed paths"),
        ("echo pwned > /etc/motd", "outside the allowed paths"),
        ("ls; cp notes.txt ../../elsewhere/", "outside the allowed paths"),
        ("echo 'unterminated", "does not parse"),
        ("shutdown -h now", "system administration"),
    ],
)
def test_guardrails_refuse(command: str, rule: str, tmp_path: Path) -> None:
    with pytest.raises(ShellPolicyError, match=rule):
        check_command(command, cwd=str(tmp_path))


def test_guardrails_allow_ordinary_work_and_honour_the_lists(tmp_path: Path) -> None:
    cwd = str(tmp_path)
    names = check_command("ls -la | grep txt && wc -l *.txt > counts.txt 2>&1; echo done", cwd=cwd)
    assert names == ["ls", "grep", "wc", "echo"]
    assert check_command("curl -s http://127.0.0.1:8000", cwd=cwd, allow_network=True) == ["curl"]
    with pytest.raises(ShellPolicyError, match="not on the allowed commands"):
        check_command("ls && rm notes.txt", cwd=cwd, allowed_commands=["ls", "cat"])
    other = tmp_path.parent / "shared-out"
    assert check_command(f"cp a.txt {other}/", cwd=cwd, allowed_paths=[str(other)]) == ["cp"]


def test_refused_commands_never_run_and_say_why(tmp_path: Path) -> None:
    env = BashEnvironment(working_dir=str(tmp_path), timeout=5)
    result = env.execute("touch ran.txt; curl http://example.com")
    assert result.skipped and not result.success and "network access" in result.skip_message  # type: ignore[operator]
    assert not (tmp_path / "ran.txt").exists()
    static = StaticBashEnvironment(working_dir=str(tmp_path)).execute("ls -la")
    assert static.success and static.skipped and "does not run" in static.skip_message  # type: ignore[operator]


def test_commands_run_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    result = bash_executor("wc -l a.txt && echo made > b.txt", working_dir=str(tmp_path))
    assert result.success and result.stdout.strip() == "2 a.txt"  # type: ignore[union-attr]
    assert (tmp_path / "b.txt").read_text() == "made\n"
    scratch = bash_executor("pwd")
    assert scratch.success and "mellea-sandbox-" in scratch.stdout  # type: ignore[operator]
    tool = BashEnvironment(working_dir=str(tmp_path)).as_tool()
    assert list(tool.parameters["properties"]) == ["command"]
    assert tool.run(command="cat a.txt").stdout == "one\ntwo\n"


def test_fork_bomb_is_held_by_the_process_limit_and_cleaned_up() -> None:
    if not process_limit_enforced():
        pytest.skip("root without a writable pids cgroup: no process limit to show here")
    marker = f"mellea-{uuid.uuid4().hex[:8]}"
    result = BashEnvironment(timeout=3).execute(f": {marker}; f() {{ f | f & }}; f")
    left = processes_with(marker)
    record(
        "shell",
        "fork bomb f() { f | f & }; f",
        not left,
        "process limit; group killed when bash exits",
        result.duration_s,
    )
    # bash returns at once (the bomb runs in the background); the group kill after it
    # exits, or the timeout, ends the rest.
    assert left == [] and result.duration_s < 6  # type: ignore[operator]
    assert "Resource temporarily unavailable" in result.stderr  # type: ignore[operator]


def test_endless_command_and_huge_output_are_stopped() -> None:
    slow = BashEnvironment(timeout=1).execute("sleep 30")
    record("shell", "sleep 30", slow.limit == "timeout", "wall-clock timeout", slow.duration_s)
    assert slow.timed_out and slow.duration_s < 3  # type: ignore[operator]
    loud = BashEnvironment(timeout=20).execute("yes mellea | head -c 100000000")
    record(
        "shell",
        "print 100 MB",
        loud.limit == "stdout",
        "output cap 1 MiB, group killed",
        loud.duration_s,
    )
    assert loud.limit == "stdout" and len(loud.stdout) < 1_100_000  # type: ignore[arg-type]


def test_shell_sees_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELLEA_TEST_TOKEN", "hunter2")
    result = bash_executor('echo "[$MELLEA_TEST_TOKEN]"; env')
    leaked = "hunter2" in (result.stdout or "")
    record(
        "shell",
        "echo $MELLEA_TEST_TOKEN; env",
        not leaked,
        "scrubbed environment",
        result.duration_s,
    )
    assert result.success and result.stdout.startswith("[]\n") and not leaked  # type: ignore[union-attr]


def test_writes_outside_the_allowed_paths_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    result = bash_executor(f"echo pwned > {target}")
    record(
        "shell",
        "echo pwned > <outside>",
        not target.exists(),
        "guardrail: write outside allowed paths",
        result.duration_s,
    )
    assert result.skipped and not target.exists()
    allowed = bash_executor(f"echo ok > {target}", allowed_paths=[str(tmp_path)])
    assert allowed.success and target.read_text() == "ok\n"


def test_a_writer_the_guardrails_do_not_know_is_stopped_by_the_kernel(tmp_path: Path) -> None:
    from mellea.stdlib.tools._local_run import landlock_available

    if not landlock_available():
        pytest.skip("no Landlock here (kernel or the mellea[sandbox] extra): guardrails only")
    target = tmp_path / "sorted.txt"
    result = bash_executor(f"echo b > in.txt && sort -o {target} in.txt")  # passes the guardrails
    record(
        "shell",
        "sort -o <outside> (guardrails pass it)",
        not target.exists(),
        "Landlock (kernel) refuses the write",
        result.duration_s,
    )
    assert not result.success and "Permission denied" in result.stderr and not target.exists()  # type: ignore[operator]
    inside = bash_executor(
        f"echo b > in.txt && sort -o {target} in.txt", allowed_paths=[str(tmp_path)]
    )
    assert inside.success and target.read_text() == "b\n"
