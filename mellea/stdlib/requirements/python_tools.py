"""Requirements for model-written Python: extraction, syntax, imports, output size.

```python
from mellea.stdlib.requirements import python_code_generation_requirements

m.instruct("Write a program that prints the first 10 primes.",
           requirements=python_code_generation_requirements(allowed_imports=["math"]))
```
All are checked in code (no judge) and are check-only: the model sees the instruction,
and a failure's reason in the repair prompt. The code is the best ```python block of
the output, or a tool call's `code` argument.
"""

from __future__ import annotations

from ...core.context import Context
from ...core.requirement import Requirement, ValidationResult
from ..tools._static_check import import_findings, imported_modules, parse
from ..tools.execution_policy import CapabilityPolicy, ExecutionTier
from ._code import code_in
from .python_reqs import PythonExecutionReq


class PythonCodeExtraction(Requirement):
    """The output contains a Python program (the reason is the extracted code)."""

    def __init__(self) -> None:
        super().__init__(
            "The response contains the Python code in a code block.", self._check, check_only=True
        )

    @staticmethod
    def _check(ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        return ValidationResult(
            code is not None, reason=code if code is not None else why, context=ctx
        )


class PythonSyntaxValid(Requirement):
    """The program parses."""

    def __init__(self) -> None:
        super().__init__("The Python code is syntactically valid.", self._check, check_only=True)

    @staticmethod
    def _check(ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        if code is None:
            return ValidationResult(False, reason=why, context=ctx)
        tree = parse(code)
        if isinstance(tree, SyntaxError):
            line = f" (line {tree.lineno})" if tree.lineno else ""
            text = f": {tree.text.strip()}" if tree.text else ""
            return ValidationResult(
                False, reason=f"SyntaxError{line}: {tree.msg}{text}", context=ctx
            )
        return ValidationResult(True, reason="The code parses.", context=ctx)


class ImportRestrictions(Requirement):
    """The program imports only `allowed_imports` (top-level module names)."""

    def __init__(self, allowed_imports: list[str] | None = None) -> None:
        self.allowed_imports = list(allowed_imports) if allowed_imports is not None else None
        shown = ", ".join(self.allowed_imports or []) if self.allowed_imports is not None else "any"
        super().__init__(f"Only imports from [{shown}] are used.", self._check, check_only=True)

    def _check(self, ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        if code is None:
            return ValidationResult(False, reason=why, context=ctx)
        tree = parse(code)
        if isinstance(tree, SyntaxError):
            return ValidationResult(
                False, reason=f"The imports cannot be checked: {tree.msg}", context=ctx
            )
        found = import_findings(imported_modules(tree), self.allowed_imports)
        if found:
            return ValidationResult(False, reason="; ".join(found), context=ctx)
        return ValidationResult(True, reason="Every import is allowed.", context=ctx)


class NoImportRestrictions(Requirement):
    """Placeholder that always passes (any import is allowed)."""

    def __init__(self) -> None:
        super().__init__(
            "No import restrictions (all imports allowed).",
            lambda ctx: ValidationResult(True, reason="No import restrictions.", context=ctx),
            check_only=True,
        )


class OutputSizeLimit(Requirement):
    """The program prints at most `limit_chars` characters (runs it in `execution_tier`).

    In the `"static"` tier nothing runs, so it passes with a note saying so; prefer
    `PythonExecutionReq(max_output_chars=...)`, which checks both in one run.
    """

    def __init__(
        self,
        limit_chars: int = 10000,
        execution_tier: ExecutionTier = "static",
        policy: CapabilityPolicy | None = None,
        allowed_imports: list[str] | None = None,
    ) -> None:
        if limit_chars <= 0:
            raise ValueError(f"limit_chars must be > 0, got {limit_chars!r}")
        self.limit_chars = limit_chars
        self.execution_tier = execution_tier
        self._runner = PythonExecutionReq(
            execution_tier, policy=policy, allowed_imports=allowed_imports,
            allow_unsafe_execution=True,  # the caller chose the tier explicitly
        )  # fmt: skip
        super().__init__(
            f"Output does not exceed {limit_chars} characters.", self._check, check_only=True
        )

    def _check(self, ctx: Context) -> ValidationResult:
        if self.execution_tier == "static":
            return ValidationResult(
                True,
                reason="Output size not checked: the static tier does not run code.",
                context=ctx,
            )
        code, why = code_in(ctx)
        if code is None:
            return ValidationResult(False, reason=why, context=ctx)
        result = self._runner.environment().execute(code)
        size = len(result.stdout or "")
        if result.limit in ("stdout", "stderr") or size > self.limit_chars:
            return ValidationResult(
                False, context=ctx,
                reason=f"The program printed {size}+ characters; the limit is {self.limit_chars}.",
            )  # fmt: skip
        return ValidationResult(True, reason=f"The program printed {size} characters.", context=ctx)


def python_code_generation_requirements(
    allowed_imports: list[str] | None = None,
    output_limit_chars: int = 10000,
    timeout_seconds: int = 5,
    use_sandbox: bool = False,
) -> list[Requirement]:
    """Extraction, syntax, execution (sandboxed `"local"` tier; `use_sandbox`: docker) with
    the output limit, and the import restrictions — in the order they are best checked.

    Unlike the reference (which only parses by default), the code really runs: the local
    tier is isolated (see `mellea.stdlib.tools.execution_policy`).
    """
    if timeout_seconds <= 0 or output_limit_chars <= 0:
        raise ValueError("timeout_seconds and output_limit_chars must be > 0")
    tier: ExecutionTier = "docker" if use_sandbox else "local"
    return [
        PythonCodeExtraction(),
        PythonSyntaxValid(),
        PythonExecutionReq(
            tier,
            allowed_imports=allowed_imports,
            max_output_chars=output_limit_chars,
            timeout=timeout_seconds,
        ),
        ImportRestrictions(allowed_imports)
        if allowed_imports is not None
        else NoImportRestrictions(),
    ]


__all__ = [
    "ImportRestrictions",
    "NoImportRestrictions",
    "OutputSizeLimit",
    "PythonCodeExtraction",
    "PythonSyntaxValid",
    "python_code_generation_requirements",
]
