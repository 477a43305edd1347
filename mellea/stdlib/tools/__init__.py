"""Ready-made tools: the Python interpreter, the shell, and MCP servers' tools.

```python
from mellea.stdlib.tools import python_tool

tool = python_tool()                     # the sandboxed "local" tier
result = tool.run(code="print(1 + 1)")
print(result.stdout)                     # "2\\n"
```
- `python_tool(tier=...)` and the `ExecutionEnvironment`s behind it — tiers and what
  each enforces: `mellea.stdlib.tools.execution_policy`. No default runs model-written
  code without isolation; `"local_unsafe"` / `"docker_unsafe"` are explicit opt-ins
  that log a warning.
- `BashEnvironment` / `bash_executor` — shell commands behind guardrails
  (`mellea.stdlib.tools.shell`).
- `mellea.stdlib.tools.mcp` — tools discovered on MCP servers (`pip install
  'mellea[mcp]'`).

An `ExecutionResult` says what happened (`success`, `stdout`, `stderr`, `exit_code`,
`skipped` / `skip_message`, `timed_out`, `limit`, `artifacts`); `str(result)` is what
the model sees.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr
from .execution_policy import (
    COMPATIBILITY_MATRIX,
    DOCKER_POLICY,
    LOCAL_POLICY,
    Artifact,
    CapabilityPolicy,
    ExecutionTier,
)

# The environments (sandbox runner, container CLI, shell guard) load on first use.
__getattr__ = lazy_getattr(
    __name__,
    {
        "ExecutionEnvironment": f"{__name__}.interpreter:ExecutionEnvironment",
        "ExecutionResult": f"{__name__}.interpreter:ExecutionResult",
        "LLMSandboxEnvironment": f"{__name__}.interpreter:LLMSandboxEnvironment",
        "LocalSandboxEnvironment": f"{__name__}.interpreter:LocalSandboxEnvironment",
        "StaticAnalysisEnvironment": f"{__name__}.interpreter:StaticAnalysisEnvironment",
        "UnsafeEnvironment": f"{__name__}.interpreter:UnsafeEnvironment",
        "code_interpreter": f"{__name__}.interpreter:code_interpreter",
        "local_code_interpreter": f"{__name__}.interpreter:local_code_interpreter",
        "make_execution_environment": f"{__name__}.interpreter:make_execution_environment",
        "python_tool": f"{__name__}.interpreter:python_tool",
        "BashEnvironment": f"{__name__}.shell:BashEnvironment",
        "StaticBashEnvironment": f"{__name__}.shell:StaticBashEnvironment",
        "bash_executor": f"{__name__}.shell:bash_executor",
    },
)

if TYPE_CHECKING:
    from .interpreter import (
        ExecutionEnvironment,
        ExecutionResult,
        LLMSandboxEnvironment,
        LocalSandboxEnvironment,
        StaticAnalysisEnvironment,
        UnsafeEnvironment,
        code_interpreter,
        local_code_interpreter,
        make_execution_environment,
        python_tool,
    )
    from .shell import BashEnvironment, StaticBashEnvironment, bash_executor

Tier = ExecutionTier  # the name this package used before

__all__ = [
    "COMPATIBILITY_MATRIX",
    "DOCKER_POLICY",
    "LOCAL_POLICY",
    "Artifact",
    "BashEnvironment",
    "CapabilityPolicy",
    "ExecutionEnvironment",
    "ExecutionResult",
    "ExecutionTier",
    "LLMSandboxEnvironment",
    "LocalSandboxEnvironment",
    "StaticAnalysisEnvironment",
    "StaticBashEnvironment",
    "Tier",
    "UnsafeEnvironment",
    "bash_executor",
    "code_interpreter",
    "local_code_interpreter",
    "make_execution_environment",
    "python_tool",
]
