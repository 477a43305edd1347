"""Requirements: constraints on model output, checked in code or by the model.

```python
from mellea.stdlib.requirements import check, req, simple_validate

requirements = [
    "The email should have a salutation.",                 # LLM-as-a-judge
    req("Use only lower-case letters.",                    # checked in code
        validation_fn=simple_validate(lambda x: x.lower() == x)),
    check("Do not mention purple elephants."),             # checked, not in the prompt
]
```
`await m.avalidate(requirements)` checks the session's last output (all requirements
concurrently; results in requirement order). Validation functions get the context whose
last output is the candidate and return a bool or a `ValidationResult`; sync ones run on
a worker thread (they may block), async ones are awaited.

Ready-made: tool calls (`uses_tool`, `tool_arg_validator`), Python programs
(`python_code_generation_requirements`, `PythonExecutionReq` and friends — run in a
sandboxed tier), plots (`python_plotting_requirements`), Markdown (`is_markdown_list`,
`is_markdown_table`, `as_markdown_list`), groundedness in documents
(`GroundednessRequirement`), and judge-only requirements (`LLMaJRequirement`,
`ALoraRequirement`).
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr
from ...core.requirement import Requirement, ValidationFn, ValidationResult
from ._validate import JudgeRequest, avalidate_all, default_output_to_bool
from .md import as_markdown_list, is_markdown_list, is_markdown_table
from .rag import GroundednessRequirement
from .requirement import (
    ALoraRequirement,
    LLMaJRequirement,
    check,
    req,
    reqify,
    requirement_check_to_bool,
    simple_validate,
)
from .tool_reqs import tool_arg_validator, uses_tool

# The Python-program and plotting requirements pull in the sandboxed tools (and the
# plotting harness): loaded on first use, not by every session's sampling loop.
__getattr__ = lazy_getattr(
    __name__,
    {
        "MatplotlibHeadlessBackend": f"{__name__}.plotting:MatplotlibHeadlessBackend",
        "PlotDependenciesAvailable": f"{__name__}.plotting:PlotDependenciesAvailable",
        "PlotFileSaved": f"{__name__}.plotting:PlotFileSaved",
        "python_plotting_requirements": f"{__name__}.plotting:python_plotting_requirements",
        "PythonExecutionReq": f"{__name__}.python_reqs:PythonExecutionReq",
        "ImportRestrictions": f"{__name__}.python_tools:ImportRestrictions",
        "NoImportRestrictions": f"{__name__}.python_tools:NoImportRestrictions",
        "OutputSizeLimit": f"{__name__}.python_tools:OutputSizeLimit",
        "PythonCodeExtraction": f"{__name__}.python_tools:PythonCodeExtraction",
        "PythonSyntaxValid": f"{__name__}.python_tools:PythonSyntaxValid",
        "python_code_generation_requirements": (
            f"{__name__}.python_tools:python_code_generation_requirements"
        ),
    },
)

if TYPE_CHECKING:
    from .plotting import (
        MatplotlibHeadlessBackend,
        PlotDependenciesAvailable,
        PlotFileSaved,
        python_plotting_requirements,
    )
    from .python_reqs import PythonExecutionReq
    from .python_tools import (
        ImportRestrictions,
        NoImportRestrictions,
        OutputSizeLimit,
        PythonCodeExtraction,
        PythonSyntaxValid,
        python_code_generation_requirements,
    )

__all__ = [
    "ALoraRequirement",
    "GroundednessRequirement",
    "ImportRestrictions",
    "JudgeRequest",
    "LLMaJRequirement",
    "MatplotlibHeadlessBackend",
    "NoImportRestrictions",
    "OutputSizeLimit",
    "PlotDependenciesAvailable",
    "PlotFileSaved",
    "PythonCodeExtraction",
    "PythonExecutionReq",
    "PythonSyntaxValid",
    "Requirement",
    "ValidationFn",
    "ValidationResult",
    "as_markdown_list",
    "avalidate_all",
    "check",
    "default_output_to_bool",
    "is_markdown_list",
    "is_markdown_table",
    "python_code_generation_requirements",
    "python_plotting_requirements",
    "req",
    "reqify",
    "requirement_check_to_bool",
    "simple_validate",
    "tool_arg_validator",
    "uses_tool",
]
