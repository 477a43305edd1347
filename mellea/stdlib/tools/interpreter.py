"""The Python code interpreter tool and its execution environments, by tier.

```python
from mellea.stdlib.tools import python_tool

tool = python_tool()                      # tier "local": the sandboxed subprocess
result = tool.run(code="print(1 + 1)")
result.stdout                             # "2\\n"
```
`python_tool(tier=...)`: `"static"` (check only), `"local"` (default), `"docker"`,
and the explicit opt-ins `"local_unsafe"` / `"docker_unsafe"` (a warning is logged).
What each tier enforces: `mellea.stdlib.tools.execution_policy`.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from ...backends.tools import MelleaTool
from ._container import LLMSandboxEnvironment
from ._environments import (
    ExecutionEnvironment,
    LocalSandboxEnvironment,
    StaticAnalysisEnvironment,
    UnsafeEnvironment,
)
from ._result import ExecutionResult
from .execution_policy import TIERS, CapabilityPolicy, ExecutionTier

logger = logging.getLogger("mellea")


def make_execution_environment(
    tier: ExecutionTier,
    policy: CapabilityPolicy | None = None,
    allowed_imports: list[str] | None = None,
    working_directory: str | None = None,
    _install_cache: set[str] | None = None,
    _failed_cache: set[str] | None = None,
    export_dir: Path | None = None,
    *,
    suppress_agg: bool = False,
) -> ExecutionEnvironment:
    """The environment for `tier`; `policy` overrides the tier's default policy."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; use one of {', '.join(TIERS)}")
    if tier == "static":
        return StaticAnalysisEnvironment(allowed_imports, policy, working_directory)
    if tier == "local":
        return LocalSandboxEnvironment(
            allowed_imports, policy, working_directory,
            artifact_dir=export_dir, suppress_agg=suppress_agg,
        )  # fmt: skip
    if tier == "local_unsafe":
        return UnsafeEnvironment(
            allowed_imports, policy, working_directory, _install_cache, _failed_cache, tier
        )
    if tier == "docker_unsafe":
        logger.warning(
            "mellea: the docker_unsafe tier runs model-written code with network access "
            "and a writable container; use tier='docker' unless the code is trusted"
        )
    return LLMSandboxEnvironment(
        allowed_imports, policy, working_directory, _install_cache, _failed_cache, tier,
        export_dir,
    )  # fmt: skip


def python_tool(
    tier: ExecutionTier | None = None,
    packages: list[str] | None = None,
    artifact_dir: Path | None = None,
    policy: CapabilityPolicy | None = None,
    allowed_imports: list[str] | None = None,
    name: str = "python",
    suppress_agg: bool = False,
    *,
    timeout: float | None = None,
) -> MelleaTool[..., Any]:
    """A tool that runs the Python code the model writes, in `tier` (default `"local"`).

    `packages` adds to the policy's packages (the local tiers check they are importable;
    docker installs them). `artifact_dir` receives the files a successful run wrote.
    `timeout` (seconds) overrides the policy's. Matplotlib renders to files (`Agg`)
    unless `suppress_agg`.
    """
    tier = tier or "local"
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; use one of {', '.join(TIERS)}")
    if packages:
        from dataclasses import replace

        from .execution_policy import DOCKER_POLICY, LOCAL_POLICY

        base = policy or (DOCKER_POLICY if tier.startswith("docker") else LOCAL_POLICY)
        policy = replace(base, packages=[*base.packages, *packages])
    env = make_execution_environment(
        tier, policy, allowed_imports, export_dir=artifact_dir, suppress_agg=suppress_agg
    )

    def run_python(code: str) -> ExecutionResult:
        """Run a Python program and return what it printed.

        Args:
            code: A complete Python program; use print() to show results.
        """
        return env.execute(code, timeout)

    tool = MelleaTool.from_callable(run_python, name)
    tool.environment = env  # type: ignore[attr-defined]  # for callers to inspect the tier
    return tool


def code_interpreter(code: str) -> ExecutionResult:
    """Run `code` in the `"docker"` tier (deprecated: use `python_tool(tier="docker")`)."""
    warnings.warn(
        "code_interpreter() is deprecated; use python_tool(tier='docker')",
        DeprecationWarning, stacklevel=2,
    )  # fmt: skip
    return make_execution_environment("docker").execute(code)


def local_code_interpreter(code: str) -> ExecutionResult:
    """Run `code` in the sandboxed `"local"` tier (deprecated: use `python_tool()`).

    The reference ran this without isolation; here it is the sandboxed local tier.
    """
    warnings.warn(
        "local_code_interpreter() is deprecated; use python_tool()",
        DeprecationWarning, stacklevel=2,
    )  # fmt: skip
    return make_execution_environment("local").execute(code, timeout=60)


__all__ = [
    "ExecutionEnvironment",
    "ExecutionResult",
    "LLMSandboxEnvironment",
    "LocalSandboxEnvironment",
    "StaticAnalysisEnvironment",
    "UnsafeEnvironment",
    "code_interpreter",
    "local_code_interpreter",
    "make_execution_environment",
    "python_tool",
]
