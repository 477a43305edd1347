"""Requirements for plotting programs (matplotlib): headless backend, file saved, deps."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import replace
from pathlib import Path

from ....core.context import Context
from ....core.requirement import Requirement, ValidationResult
from ...tools.execution_policy import LOCAL_POLICY, ExecutionTier
from .._code import code_in
from ..python_reqs import PythonExecutionReq
from ..python_tools import (
    ImportRestrictions,
    NoImportRestrictions,
    PythonCodeExtraction,
    PythonSyntaxValid,
)

HEADLESS_BACKENDS = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def _calls(code: str, name: str) -> list[ast.Call] | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) == name or getattr(node.func, "id", None) == name)
    ]  # fmt: skip


def _literal(call: ast.Call) -> object:
    arg = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg in ("backend", "fname")), None)
    )
    return arg.value if isinstance(arg, ast.Constant) else ...


class MatplotlibHeadlessBackend(Requirement):
    """The program selects a headless backend (`matplotlib.use('Agg')`, ...)."""

    def __init__(self) -> None:
        super().__init__(
            "Matplotlib is configured with a headless backend (e.g. matplotlib.use('Agg')).",
            self._check, check_only=True,
        )  # fmt: skip

    @staticmethod
    def _check(ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        calls = _calls(code, "use") if code is not None else None
        if calls is None:
            return ValidationResult(False, reason=why or "The code does not parse.", context=ctx)
        backends = [_literal(c) for c in calls]
        if not backends:
            reason = (
                "No matplotlib.use() call found. Add matplotlib.use('Agg') before importing pyplot."
            )
            return ValidationResult(False, reason=reason, context=ctx)
        if any(b is ... for b in backends):
            reason = (
                "matplotlib.use() is called with a computed value; use a literal such as 'Agg'."
            )
            return ValidationResult(False, reason=reason, context=ctx)
        bad = [b for b in backends if str(b).lower() not in HEADLESS_BACKENDS]
        if bad:
            reason = f"Backend {bad[0]!r} is not headless; use one of {', '.join(sorted(HEADLESS_BACKENDS))}."
            return ValidationResult(False, reason=reason, context=ctx)
        return ValidationResult(True, reason=f"Headless backend {backends[0]!r}.", context=ctx)


class PlotFileSaved(Requirement):
    """The program saves the figure with `savefig(output_path)`."""

    def __init__(self, output_path: str) -> None:
        if not output_path or not output_path.strip():
            raise ValueError("output_path must not be empty")
        self.output_path = output_path
        super().__init__(
            f"The plot is saved to a file with savefig('{output_path}').",
            self._check,
            check_only=True,
        )

    def _check(self, ctx: Context) -> ValidationResult:
        code, why = code_in(ctx)
        calls = _calls(code, "savefig") if code is not None else None
        if calls is None:
            return ValidationResult(False, reason=why or "The code does not parse.", context=ctx)
        if any(_literal(c) == self.output_path for c in calls):
            return ValidationResult(
                True, reason=f"The plot is saved to {self.output_path}.", context=ctx
            )
        reason = (
            f"No savefig('{self.output_path}') call found; save the figure to exactly that path."
        )
        return ValidationResult(False, reason=reason, context=ctx)


class PlotDependenciesAvailable(Requirement):
    """matplotlib and numpy are importable here (where the code will run)."""

    def __init__(self) -> None:
        super().__init__("matplotlib and numpy are importable.", self._check, check_only=True)

    @staticmethod
    def _check(ctx: Context) -> ValidationResult:
        missing = [m for m in ("matplotlib", "numpy") if importlib.util.find_spec(m) is None]
        if missing:
            reason = f"Missing: {', '.join(missing)} (pip install {' '.join(missing)})."
            return ValidationResult(False, reason=reason, context=ctx)
        return ValidationResult(True, reason="matplotlib and numpy are available.", context=ctx)


def python_plotting_requirements(
    output_path: str,
    allowed_imports: list[str] | None = None,
    output_limit_chars: int = 10000,
    timeout_seconds: int = 5,
    use_sandbox: bool = False,
) -> list[Requirement]:
    """The seven checks of a plotting program: the four of
    `python_code_generation_requirements` (the run may write `output_path`), then the
    headless backend, the saved file, and the dependencies."""
    if timeout_seconds <= 0 or output_limit_chars <= 0:
        raise ValueError("timeout_seconds and output_limit_chars must be > 0")
    saved = PlotFileSaved(output_path)  # validates output_path
    tier: ExecutionTier = "docker" if use_sandbox else "local"
    policy = replace(LOCAL_POLICY, filesystem_write_roots=[Path(output_path).resolve().parent])
    return [
        PythonCodeExtraction(),
        PythonSyntaxValid(),
        PythonExecutionReq(
            tier,
            policy=None if use_sandbox else policy,
            allowed_imports=allowed_imports,
            max_output_chars=output_limit_chars,
            timeout=timeout_seconds,
        ),
        ImportRestrictions(allowed_imports)
        if allowed_imports is not None
        else NoImportRestrictions(),
        MatplotlibHeadlessBackend(),
        saved,
        PlotDependenciesAvailable(),
    ]


__all__ = [
    "HEADLESS_BACKENDS",
    "MatplotlibHeadlessBackend",
    "PlotDependenciesAvailable",
    "PlotFileSaved",
    "python_plotting_requirements",
]
