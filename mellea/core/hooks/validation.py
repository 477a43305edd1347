"""Validation payloads: checking requirements on an output.

Fired by `mellea.stdlib.requirements.avalidate_all` (the functional `validate`) and by
sampling loops for each attempt. `validation_id` (= `call_id`) identifies one check of a
set of requirements; the LLM-as-a-judge requests it makes have it in their `parent`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import Field

from ._base import MelleaBasePayload, fields_for
from ._scope import enter_scope, leave_scope

PRE, POST = "validation_pre_check", "validation_post_check"

__all__ = ["ValidationPostCheckPayload", "ValidationPreCheckPayload", "around"]


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


# ----- firing (called by validation and sampling code while a plugin is registered) -------


async def around(
    requirements: Sequence[Any],
    target: Any,
    context: Any,
    model_options: Mapping[str, Any] | None,
    check: Callable[[list[Any], dict[str, Any] | None], Awaitable[Sequence[Any]]],
    backend: Any = None,
) -> tuple[list[Any], list[Any]]:
    """Check `requirements` with `check(requirements, options_override)` inside the
    validation hook points; returns the (possibly changed) requirements and results.

    The check gets a `"validation"` scope (its judge requests nest under it) and runs
    inside `hooks.running` (an observer's context, e.g. the validation's span current).
    `validation_pre_check` may change the requirements and the judges' options;
    `validation_post_check` may change the results, or `all_validations_passed` (True
    makes every failed result pass, False makes a passing set fail, each with a reason
    saying a plugin decided).
    """
    from .. import hooks

    own, token = enter_scope("validation")
    try:
        reqs = list(requirements)
        given = dict(model_options or {})
        override: dict[str, Any] | None = None
        if hooks.on(PRE):
            pre = await hooks.dispatch(
                PRE,
                ValidationPreCheckPayload(
                    **fields_for(own, PRE),
                    validation_id=own.id,
                    requirements=reqs,
                    target=target,
                    context=context,
                    model_options=given,
                ),
                backend=backend,
            )
            reqs = list(pre.requirements)
            if pre.model_options != given:
                override = dict(pre.model_options)
        try:
            with hooks.running(own.id):  # validation functions run under its span
                results = list(await check(reqs, override))
        except Exception as exc:
            if hooks.on(POST):
                await hooks.dispatch(
                    POST,
                    ValidationPostCheckPayload(
                        **fields_for(own, POST),
                        validation_id=own.id,
                        requirements=reqs,
                        exception=exc,
                        failed_count=len(reqs),
                    ),
                    backend=backend,
                )
            raise
        if not hooks.on(POST):
            return reqs, results
        passed = sum(1 for r in results if bool(r))
        post = await hooks.dispatch(
            POST,
            ValidationPostCheckPayload(
                **fields_for(own, POST),
                validation_id=own.id,
                requirements=reqs,
                results=results,
                all_validations_passed=passed == len(results),
                passed_count=passed,
                failed_count=len(results) - passed,
                generate_logs=_judge_logs(results),
            ),
            backend=backend,
        )
        results = list(post.results)
        return reqs, _overridden(results, post.all_validations_passed)
    finally:
        leave_scope(token)


def _judge_logs(results: list[Any]) -> list[Any]:
    logs = []
    for result in results:
        log = getattr(getattr(result, "thunk", None), "generate_log", None)
        if log is not None:
            logs.append(log)
    return logs


def _overridden(results: list[Any], all_passed: bool) -> list[Any]:
    if all_passed == all(bool(r) for r in results) or not results:
        return results

    def flipped(result: Any, value: bool) -> Any:
        why = "a plugin marked the validation " + ("passed" if value else "failed")
        reason = f"{why} ({result.reason})" if getattr(result, "reason", None) else why
        return dataclasses.replace(result, result=value, reason=reason)

    if all_passed:
        return [r if bool(r) else flipped(r, True) for r in results]
    return [*results[:-1], flipped(results[-1], False)]
