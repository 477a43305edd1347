"""Repair feedback a model can act on: `ModelFriendlyFeedbackFormatter` and its strategy.

A raw failure reason is written for people (a whole traceback, a list of findings).
The formatter turns each failed requirement into one short instruction: what went
wrong (the exception line and where, the forbidden import, the missing `savefig`), then
what to do, ending with how to answer (one complete ```python block). Requirements it
does not know keep their description and reason. `ModelFriendlyRepairStrategy` is
`RepairTemplateStrategy` with this feedback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...core.requirement import Requirement, ValidationResult
from ..components.instruction import Instruction
from .base import BaseSamplingStrategy, RejectionSamplingStrategy

if TYPE_CHECKING:
    from ...core.base import CBlock, Component
    from ...core.context import Context
    from ...core.sampling import Validations
    from ...core.thunk import ModelOutputThunk

_ANSWER = "Answer with the complete corrected program in one ```python code block."
_LINE = re.compile(r'File "[^"]*main\.py", line (\d+)')
_EXCEPTION = re.compile(r"^(\w+(?:Error|Exception|Exit|Interrupt|Violation)\b.*)$", re.MULTILINE)


def _reason(vr: ValidationResult) -> str:
    return (vr.reason or "").strip()


class ModelFriendlyFeedbackFormatter:
    """Short, actionable repair messages for the Python-program requirements."""

    @staticmethod
    def format_python_syntax_error(validation_result: ValidationResult) -> str:
        return f"Your code has a syntax error: {_reason(validation_result)}. {_ANSWER}"

    @staticmethod
    def format_execution_error(validation_result: ValidationResult) -> str:
        text = _reason(validation_result)
        errors = _EXCEPTION.findall(text)
        lines = _LINE.findall(text)
        if not errors:
            return f"Running your code failed: {text[-500:]}. {_ANSWER}"
        where = f" at line {lines[-1]}" if lines else ""
        return f"Running your code raised {errors[-1]}{where}. Fix the cause. {_ANSWER}"

    @staticmethod
    def format_import_error(validation_result: ValidationResult) -> str:
        return (
            f"Your code imports modules it may not use ({_reason(validation_result)}). "
            f"Use only the allowed modules. {_ANSWER}"
        )

    @staticmethod
    def format_extraction_error(validation_result: ValidationResult) -> str:
        return "No Python code was found in your answer. " + _ANSWER

    @staticmethod
    def format_output_size_error(validation_result: ValidationResult) -> str:
        return f"{_reason(validation_result)} Print only the final result. {_ANSWER}"

    @staticmethod
    def format_matplotlib_error(validation_result: ValidationResult) -> str:
        return f"Your plotting code needs a fix: {_reason(validation_result)} {_ANSWER}"

    @classmethod
    def format_requirement_reason(
        cls, requirement: Requirement, validation_result: ValidationResult
    ) -> str:
        """The message for one failed requirement (by its kind)."""
        from ..requirements import plotting, python_reqs, python_tools

        formatters: list[tuple[type[Requirement] | tuple[type[Requirement], ...], Any]] = [
            (python_tools.PythonCodeExtraction, cls.format_extraction_error),
            (python_tools.PythonSyntaxValid, cls.format_python_syntax_error),
            (python_tools.ImportRestrictions, cls.format_import_error),
            (python_tools.OutputSizeLimit, cls.format_output_size_error),
            (
                (plotting.MatplotlibHeadlessBackend, plotting.PlotFileSaved),
                cls.format_matplotlib_error,
            ),
        ]
        if isinstance(requirement, python_reqs.PythonExecutionReq):
            if "the limit is" in _reason(validation_result):
                return cls.format_output_size_error(validation_result)
            return cls.format_execution_error(validation_result)
        for kinds, formatter in formatters:
            if isinstance(requirement, kinds):
                return str(formatter(validation_result))
        name = requirement.description or "A check"
        reason = _reason(validation_result)
        return f"{name}" + (f" — {reason}" if reason and reason != name else "")


def friendly_failures(validations: Validations) -> str:
    """Every failed requirement of an attempt as a bullet (one per distinct message)."""
    lines: list[str] = []
    for requirement, result in validations:
        if not result:
            line = "* " + ModelFriendlyFeedbackFormatter.format_requirement_reason(
                requirement, result
            )
            if line not in lines:
                lines.append(line)
    return "\n".join(lines)


class ModelFriendlyRepairStrategy(BaseSamplingStrategy):
    """Retry with the instruction plus model-friendly feedback on what failed."""

    @staticmethod
    def repair(
        old_ctx: Context,
        new_ctx: Context,
        past_actions: list[Component[Any] | CBlock],
        past_results: list[ModelOutputThunk[Any]],
        past_val: list[Validations],
    ) -> tuple[Component[Any] | CBlock, Context]:
        action = past_actions[-1]
        if isinstance(action, Instruction):
            note = "Your previous answer had these problems:\n" + friendly_failures(past_val[-1])
            return action.copy_and_repair(note), old_ctx
        return action, old_ctx

    select_from_failure = staticmethod(RejectionSamplingStrategy.select_from_failure)


__all__ = ["ModelFriendlyFeedbackFormatter", "ModelFriendlyRepairStrategy", "friendly_failures"]
