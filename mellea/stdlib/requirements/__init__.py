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
"""

from ...core.requirement import Requirement, ValidationFn, ValidationResult
from ._validate import JudgeRequest, avalidate_all, default_output_to_bool
from .requirement import check, req, reqify, simple_validate
from .tool_reqs import tool_arg_validator, uses_tool

__all__ = [
    "JudgeRequest",
    "Requirement",
    "ValidationFn",
    "ValidationResult",
    "avalidate_all",
    "check",
    "default_output_to_bool",
    "req",
    "reqify",
    "simple_validate",
    "tool_arg_validator",
    "uses_tool",
]
