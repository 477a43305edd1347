"""Validation payloads: checking requirements on an output.

Fired by `mellea.stdlib.requirements.avalidate_all` (the functional `validate`) and by
sampling loops for each attempt. `validation_id` (= `call_id`) identifies one check of a
set of requirements; the LLM-as-a-judge requests it makes have it in their `parent`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload

__all__ = ["ValidationPostCheckPayload", "ValidationPreCheckPayload"]


class ValidationPreCheckPayload(MelleaBasePayload):
    """`validation_pre_check`: before the requirements are checked.

    - writable: `requirements` (add or drop some), `model_options` (the judges');
    - `target` — the output being checked (a thunk or block); `context` — what it is
      checked in.
    """

    validation_id: str = ""
    requirements: list[Any] = Field(default_factory=list)
    target: Any = None
    context: Any = None
    model_options: dict[str, Any] = Field(default_factory=dict)


class ValidationPostCheckPayload(MelleaBasePayload):
    """`validation_post_check`: every requirement has a result.

    - `requirements` and `results` (`ValidationResult`s, same order) — `results` is
      writable, as is `all_validations_passed`;
    - `passed_count`, `failed_count`; `generate_logs` — the judges' `GenerateLog`s;
    - `exception` — set if checking raised (then `results` is empty).
    """

    validation_id: str = ""
    requirements: list[Any] = Field(default_factory=list)
    results: list[Any] = Field(default_factory=list)
    all_validations_passed: bool = False
    passed_count: int = 0
    failed_count: int = 0
    exception: BaseException | None = None
    generate_logs: list[Any] = Field(default_factory=list)
