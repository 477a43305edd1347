"""`PythonExecutionReq`: the program in the output must run without errors.

It finds the code (a fenced block, or a tool call's `code` argument) and runs it in an
execution tier (`mellea.stdlib.tools.execution_policy`): `"static"` (the default, as
in the reference: parse and policy check only), `"local"` (the sandboxed subprocess),
`"docker"`, or — only with `allow_unsafe_execution=True` — `"local_unsafe"` /
`"docker_unsafe"`. `use_sandbox=True` is the reference's older spelling of `"docker"`.
The validation reason is what the run printed (stdout on success, the error otherwise),
so a repair prompt shows the model its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.context import Context
from ...core.requirement import Requirement, ValidationResult
from ..tools.execution_policy import TIERS, CapabilityPolicy, ExecutionTier
from ._code import code_in

if TYPE_CHECKING:
    from ..tools.interpreter import ExecutionEnvironment


class PythonExecutionReq(Requirement):
    """The output's Python program runs without errors in `execution_tier`."""

    def __init__(
        self,
        execution_tier: ExecutionTier = "static",
        *,
        policy: CapabilityPolicy | None = None,
        allowed_imports: list[str] | None = None,
        max_output_chars: int | None = None,
        timeout: int | None = None,
        allow_unsafe_execution: bool = False,
        use_sandbox: bool = False,
    ) -> None:
        if use_sandbox and execution_tier == "static":
            execution_tier = "docker"
        if execution_tier not in TIERS:
            raise ValueError(f"unknown execution tier {execution_tier!r}")
        if execution_tier.endswith("_unsafe") and not allow_unsafe_execution:
            raise ValueError(
                f"the {execution_tier!r} tier runs model-written code without isolation; "
                "pass allow_unsafe_execution=True to opt in, or use 'local' / 'docker'"
            )
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout!r}")
        if max_output_chars is not None and max_output_chars <= 0:
            raise ValueError(f"max_output_chars must be > 0, got {max_output_chars!r}")
        self.execution_tier: ExecutionTier = execution_tier
        self.policy = policy
        self.allowed_imports = allowed_imports
        self.max_output_chars = max_output_chars
        self.timeout = timeout
        self._environment: ExecutionEnvironment | None = None
        what = (
            "be valid and pass the policy" if execution_tier == "static" else "run without errors"
        )
        super().__init__(f"The Python code should {what}.", self._check, check_only=True)

    def environment(self) -> ExecutionEnvironment:
        """The tier's environment (built on first use: building never runs anything)."""
        if self._environment is None:
            from ..tools.interpreter import make_execution_environment

            self._environment = make_execution_environment(
                self.execution_tier, self.policy, self.allowed_imports
            )
        return self._environment

    def _check(self, ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        if code is None:
            return ValidationResult(False, reason=why, context=ctx)
        result = self.environment().execute(code, self.timeout)
        reason = result.to_validationresult_reason()
        passed = result.success
        if passed and self.max_output_chars is not None and result.stdout is not None:
            if len(result.stdout) > self.max_output_chars:
                passed = False
                reason = (
                    f"The program printed {len(result.stdout)} characters; the limit is "
                    f"{self.max_output_chars}. Print less (a summary, not every value)."
                )
        return ValidationResult(passed, reason=reason, context=ctx)


__all__ = ["PythonExecutionReq"]
