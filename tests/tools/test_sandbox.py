"""Hostile snippets against the sandboxed Python tier: each one is contained, and says how.

Every test records its outcome; `conftest.py` prints them as a table after the run.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from mellea.stdlib.tools import (
    COMPATIBILITY_MATRIX,
    LOCAL_POLICY,
    CapabilityPolicy,
    ExecutionResult,
    LLMSandboxEnvironment,
    StaticAnalysisEnvironment,
    make_execution_environment,
    python_tool,
)
from mellea.stdlib.tools._container import docker_unavailable_reason
from mellea.stdlib.tools._local_run import _CHILD, landlock_available, process_limit_enforced
from tests.tools._outcomes import record

FAST = CapabilityPolicy(timeout=3)


def sandbox(policy: CapabilityPolicy = FAST, **kwargs: object) -> object:
    return make_execution_environment("local", policy, **kwargs)  # type: ignore[arg-type]


def leftover_processes() -> list[int]:
    """Processes still running the sandbox bootstrap (there must be none after a run)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if _CHILD.encode() in cmdline:
                found.append(int(entry.name))
    return found


def run(code: str, policy: CapabilityPolicy = FAST, **kwargs: object) -> ExecutionResult:
    result = sandbox(policy, **kwargs).execute(code)  # type: ignore[attr-defined]
    assert leftover_processes() == [], "a sandboxed process outlived its run"
    return result  # type: ignore[no-any-return]


def test_plain_code_runs_in_a_fresh_scratch_directory() -> None:
    result = run("import os, sys\nprint(os.getcwd())\nprint(sum(range(10)))")
    assert result.success and result.exit_code == 0 and result.limit is None
    cwd, total = result.stdout.split()  # type: ignore[union-attr]
    assert total == "45" and "mellea-sandbox-" in cwd and not os.path.exists(cwd)
    assert result.execution_mode == "local" and result.duration_s is not None


def test_infinite_loop_is_stopped_at_the_timeout() -> None:
    result = run(
        "print('spinning', flush=True)\nwhile True:\n    pass", CapabilityPolicy(timeout=1)
    )
    record(
        "python/local",
        "while True: pass",
        result.limit == "timeout",
        "wall-clock timeout, group killed",
        result.duration_s,
    )
    assert not result.success and result.timed_out and result.limit == "timeout"
    assert result.stdout == "spinning\n" and result.exit_code == -9
    assert 0.9 < result.duration_s < 2.5  # type: ignore[operator]


def test_cpu_limit_ends_a_busy_process_before_the_wall_clock() -> None:
    result = run("while True:\n    pass", CapabilityPolicy(timeout=30, cpu_seconds=1))
    record(
        "python/local",
        "busy loop, cpu_seconds=1",
        result.limit == "cpu",
        "RLIMIT_CPU (SIGXCPU)",
        result.duration_s,
    )
    assert not result.success and result.limit == "cpu" and result.duration_s < 30  # type: ignore[operator]


def test_fork_loop_is_refused_before_it_runs_and_while_it_runs() -> None:
    static = run("import os\nwhile True:\n    os.fork()")
    assert static.skipped and "os.fork() starts or signals a process" in static.skip_message  # type: ignore[operator]
    hidden = run("import os\nfork = getattr(os, 'fo' + 'rk')\nwhile True:\n    fork()")
    record(
        "python/local",
        "os.fork() loop (default policy)",
        hidden.limit == "policy",
        "refused: static check + audit hook",
        hidden.duration_s,
    )
    assert not hidden.success and hidden.limit == "policy"
    assert "starting a process is not allowed" in hidden.stderr  # type: ignore[operator]


def test_fork_loop_with_subprocesses_allowed_hits_the_process_limit() -> None:
    if not process_limit_enforced():
        pytest.skip("root without a writable pids cgroup: no process limit to show here")
    policy = CapabilityPolicy(timeout=5, subprocess_execution=True, max_processes=16)
    code = "import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(30)"
    result = run(code, policy)
    record(
        "python/local",
        "fork loop, subprocesses allowed",
        result.limit == "processes",
        "process limit (cgroup pids / RLIMIT_NPROC), group killed",
        result.duration_s,
    )
    assert not result.success and result.limit == "processes", result
    assert "Resource temporarily unavailable" in result.stderr  # type: ignore[operator]


def test_memory_hog_fails_with_memory_error() -> None:
    policy = CapabilityPolicy(timeout=20, memory_max_bytes=256 * 1024 * 1024)
    result = run("blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))", policy)
    record(
        "python/local",
        "allocate 16 MB blocks forever",
        result.limit == "memory",
        "RLIMIT_AS -> MemoryError",
        result.duration_s,
    )
    assert not result.success and result.limit == "memory"
    assert "MemoryError" in result.stderr  # type: ignore[operator]
    huge = run("x = bytearray(8 * 1024 ** 3)")  # the default limit: 1 GiB
    assert huge.limit == "memory"


def test_a_100_mb_print_is_cut_at_the_output_cap() -> None:
    t0 = time.perf_counter()
    result = run("import sys\nsys.stdout.write('x' * 100_000_000)")
    record(
        "python/local",
        "print 100 MB",
        result.limit == "stdout",
        "output cap 1 MiB, group killed",
        result.duration_s,
    )
    assert not result.success and result.limit == "stdout"
    assert result.stdout.endswith("[output truncated]")  # type: ignore[union-attr]
    assert len(result.stdout) <= LOCAL_POLICY.stdout_max_bytes + 100  # type: ignore[arg-type, operator]
    assert time.perf_counter() - t0 < 10


def test_secrets_in_the_environment_are_not_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELLEA_TEST_API_KEY", "hunter2")
    code = "import os\nprint(os.environ.get('MELLEA_TEST_API_KEY'))\nprint(sorted(os.environ))"
    result = run(code)
    parent = run("import os\nprint(open(f'/proc/{os.getppid()}/environ').read())")
    leaked = "hunter2" in (result.stdout or "") + (parent.stdout or "")
    record(
        "python/local",
        "read $MELLEA_TEST_API_KEY, /proc/<parent>/environ",
        not leaked,
        "scrubbed env; /proc read refused",
        result.duration_s,
    )
    assert result.success and result.stdout.startswith("None\n")  # type: ignore[union-attr]
    assert not parent.success and "hunter2" not in parent.stdout  # type: ignore[operator]
    assert "another process" in parent.stderr  # type: ignore[operator]
    # Opting in passes the environment on, minus names that look like secrets.
    monkeypatch.setenv("MELLEA_TEST_COLOUR", "green")
    inherit = run(code.replace("API_KEY'))", "API_KEY'), os.environ.get('MELLEA_TEST_COLOUR'))"),
                  CapabilityPolicy(timeout=3, env_var_access=True))  # fmt: skip
    assert inherit.stdout.startswith("None green")  # type: ignore[union-attr]


def test_writing_outside_the_scratch_directory_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    result = run(f"open({str(target)!r}, 'w').write('pwned')")
    link = run(
        f"import os\nos.symlink({str(tmp_path)!r}, 'out')\nopen('out/x.txt', 'w').write('pwned')"
    )
    escaped = target.exists() or (tmp_path / "x.txt").exists()
    record(
        "python/local",
        "write a file outside scratch (also via a symlink)",
        not escaped,
        "audit hook refuses the open",
        result.duration_s,
    )
    assert not result.success and result.limit == "policy" and not target.exists()
    assert "outside the working directory" in result.stderr  # type: ignore[operator]
    assert not link.success and not (tmp_path / "x.txt").exists()
    inside = run("open('notes.txt', 'w').write('ok')\nprint(open('notes.txt').read())")
    assert inside.success and inside.stdout == "ok\n"
    allowed = run(f"open({str(target)!r}, 'w').write('ok')",
                  CapabilityPolicy(timeout=3, filesystem_write_roots=[tmp_path]))  # fmt: skip
    assert allowed.success and target.read_text() == "ok"


def test_the_kernel_confines_writes_the_audit_hook_cannot_see(tmp_path: Path) -> None:
    if not landlock_available():
        pytest.skip("no Landlock here (kernel or the mellea[sandbox] extra): audit hook only")
    target = tmp_path / "escaped.txt"
    # With subprocesses allowed, a child shell writes: no Python audit hook sees that.
    policy = CapabilityPolicy(timeout=5, subprocess_execution=True)
    result = run(f"import os\nprint(os.system('echo pwned > {target}'))", policy)
    record(
        "python/local",
        "child shell writes outside scratch",
        not target.exists(),
        "Landlock (kernel) refuses the write",
        result.duration_s,
    )
    assert result.success and result.stdout != "0\n" and not target.exists()
    sqlite = run(f"import sqlite3\nsqlite3.connect({str(tmp_path / 'x.db')!r})")
    assert not sqlite.success and not (tmp_path / "x.db").exists()


def test_a_forbidden_import_is_refused_statically_and_dynamically() -> None:
    static = run("import json\nimport requests", allowed_imports=["json", "math"])
    assert static.skipped and "'requests' is not in the allowed imports" in static.skip_message  # type: ignore[operator]
    dynamic = run("m = __import__('xml' + '.dom')\nprint(m)", allowed_imports=["json", "math"])
    record(
        "python/local",
        "import outside allowed_imports (direct and __import__)",
        static.skipped and dynamic.limit == "policy",
        "static check; audit hook on import",
        dynamic.duration_s,
    )
    assert not dynamic.success and "import of 'xml' is not allowed" in dynamic.stderr  # type: ignore[operator]
    native = run("import ctypes")
    assert native.skipped and "native code" in native.skip_message  # type: ignore[operator]
    # Libraries the allowed modules import themselves are not the model's imports.
    ok = run("import json\nprint(json.dumps({'a': 1}))", allowed_imports=["json"])
    assert ok.success and ok.stdout == '{"a": 1}\n'


def test_network_access_is_refused() -> None:
    result = run("s = __import__('soc' + 'ket').create_connection(('127.0.0.1', 9))")
    record(
        "python/local",
        "socket connect to 127.0.0.1",
        result.limit == "policy",
        "audit hook refuses sockets",
        result.duration_s,
    )
    assert not result.success and result.limit == "policy"


def test_static_tier_never_runs_code() -> None:
    env = StaticAnalysisEnvironment(allowed_imports=["math"])
    ok = env.execute("import math\nprint(math.pi)")
    assert ok.success and ok.skipped and ok.stdout is None and ok.analysis_result is not None
    bad = env.execute("print(1")
    assert not bad.success and bad.skipped and "SyntaxError" in bad.skip_message  # type: ignore[operator]
    assert not env.execute("import os").success
    assert COMPATIBILITY_MATRIX["static"]["execute_code"] is False


def test_python_tool_defaults_to_the_sandbox_and_unsafe_is_an_explicit_opt_in(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.WARNING, logger="mellea")
    tool = python_tool()
    assert tool.environment.tier == "local" and not caplog.records  # type: ignore[attr-defined]
    result = tool.run(code="print(1 + 1)")
    assert result.stdout == "2\n" and str(result) == "stdout:\n2\n"
    assert tool.parameters["required"] == ["code"] and tool.name == "python"
    unsafe = python_tool(tier="local_unsafe")
    assert any("WITHOUT isolation" in r.getMessage() for r in caplog.records)
    assert unsafe.run(code="raise SystemExit(3)").exit_code == 3
    slow = python_tool(timeout=0.5).run(
        code="import time; print('started', flush=True); time.sleep(5)"
    )
    assert slow.timed_out and slow.stdout == "started\n" and "time limit" in str(slow)
    with pytest.raises(ValueError, match="unknown tier"):
        python_tool(tier="cloud")  # type: ignore[arg-type]
    plot = python_tool(artifact_dir=tmp_path).run(code="open('out.csv', 'w').write('a,b\\n1,2\\n')")
    assert [a.path.name for a in plot.artifacts] == ["out.csv"] and plot.artifacts[
        0
    ].size_bytes == 8
    assert plot.artifacts[0].content_type == "text/csv"


def test_docker_tier_runs_in_a_container_or_says_why_not() -> None:
    env = LLMSandboxEnvironment(policy=CapabilityPolicy(timeout=20))
    argv = env.docker_argv("mellea-test", "/tmp/scratch")
    for flag in ("--network", "--read-only", "--cap-drop", "--pids-limit", "--memory", "--user"):
        assert flag in argv
    reason = docker_unavailable_reason()
    result = env.execute("print(6 * 7)")
    if reason is not None:
        assert result.skipped and reason in result.skip_message  # type: ignore[operator]
        pytest.skip(f"container tier not exercised: {reason}")
    assert result.success and result.stdout == "42\n"


def test_working_directory_persists_and_copies_in_and_out(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = make_execution_environment("local", FAST, working_directory=str(work))
    source = tmp_path / "data.txt"
    source.write_text("3 4\n")
    env.copy_in(source, "data.txt")
    result = env.execute(
        "a, b = map(int, open('data.txt').read().split())\nopen('sum.txt', 'w').write(str(a + b))"
    )
    assert result.success and result.working_directory == str(work)
    env.copy_out("sum.txt", tmp_path / "sum.txt")
    assert (tmp_path / "sum.txt").read_text() == "7"
    with pytest.raises(ValueError, match="outside the working directory"):
        env.copy_out("../data.txt", tmp_path / "x")
    with pytest.raises(NotImplementedError):
        sandbox().copy_in(source, "data.txt")  # type: ignore[attr-defined]


def test_policy_declares_what_it_enforces_and_tiers_are_chosen_by_name() -> None:
    assert CapabilityPolicy().unenforced_capabilities() == []
    assert "network_access" in CapabilityPolicy().enforced_capabilities()
    with pytest.raises(ValueError):
        CapabilityPolicy(packages=["--index-url=http://evil"])
    with pytest.raises(ValueError):
        CapabilityPolicy(timeout=0)
    kinds = {tier: type(make_execution_environment(tier)).__name__ for tier in COMPATIBILITY_MATRIX}
    assert kinds == {
        "static": "StaticAnalysisEnvironment", "local_unsafe": "UnsafeEnvironment",
        "local": "LocalSandboxEnvironment", "docker_unsafe": "LLMSandboxEnvironment",
        "docker": "LLMSandboxEnvironment",
    }  # fmt: skip
    missing = run("print(1)", CapabilityPolicy(timeout=3, packages=["surely-not-installed-pkg"]))
    assert missing.skipped and "surely-not-installed-pkg" in missing.skip_message  # type: ignore[operator]


def test_deprecated_interpreters_warn_and_stay_safe() -> None:
    from mellea.stdlib.tools import code_interpreter, local_code_interpreter

    with pytest.warns(DeprecationWarning):
        local = local_code_interpreter(
            "import os\nprint(os.environ.get('HOME', '').startswith('/tmp'))"
        )
    assert local.execution_mode == "local" and local.stdout == "True\n"  # the sandbox, not unsafe
    with pytest.warns(DeprecationWarning):
        docker = code_interpreter("print(1)")
    assert docker.execution_mode == "docker"
