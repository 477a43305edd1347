"""The built-in debug plugins, registered as the "Debug with Plugins" page shows."""

from __future__ import annotations

import logging

import pytest

from mellea.core.requirement import Requirement, ValidationResult
from mellea.plugins import register
from mellea.plugins.builtin_debug.generation import (
    log_generation_post_call,
    log_generation_pre_call,
)
from mellea.plugins.builtin_debug.sampling import (
    log_sampling_iteration,
    log_sampling_loop_end,
    log_sampling_loop_start,
    log_sampling_repair,
)
from mellea.plugins.builtin_debug.validation import (
    log_validation_post_check,
    log_validation_pre_check,
)
from mellea.stdlib.sampling import RepairTemplateStrategy
from tests.plugins._util import session
from tests.servers import LoopbackServer


def test_the_complete_pipeline_is_logged_in_order(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    register([
        log_generation_pre_call, log_generation_post_call,
        log_validation_pre_check, log_validation_post_check,
        log_sampling_loop_start, log_sampling_iteration, log_sampling_repair,
        log_sampling_loop_end,
    ])  # fmt: skip
    m = session(loopback)
    attempts = iter([False, True])

    def greets(ctx: object) -> ValidationResult:
        return ValidationResult(next(attempts), reason='validated as "no"')

    with caplog.at_level(logging.DEBUG, logger="mellea.plugins.builtin_debug"):
        m.instruct(
            "Write a thank you note",
            requirements=[Requirement("Start with a greeting", validation_fn=greets)],
            strategy=RepairTemplateStrategy(loop_budget=3),
        )
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("mellea.plugins.builtin")]
    heads = [line.split("]")[0].split(" gen_id")[0] + "]" for line in lines if line.startswith("[")]
    assert heads == [
        "[SAMPLING-START]", "[GEN-PRE-CALL]", "[GEN-POST-CALL]", "[VALIDATION-PRE-CHECK]",
        "[VALIDATION-POST-CHECK]", "[SAMPLING-ITER 1]", "[REPAIR-TRIGGERED]",
        "[GEN-PRE-CALL]", "[GEN-POST-CALL]", "[VALIDATION-PRE-CHECK]",
        "[VALIDATION-POST-CHECK]", "[SAMPLING-ITER 2]", "[SAMPLING-END]",
    ]  # fmt: skip
    text = "\n".join(lines)
    assert "strategy=RepairTemplateStrategy | loop_budget=3 | requirements=1" in text
    assert "model=m | prompt=Write a thank you note" in text
    assert "tokens=(" in text and "response=Echo: Write a thank you note" in text
    assert "MIXED RESULTS: 0/1 passed, 1/1 failed" in text
    assert '✗ Start with a greeting\n       └─ validated as "no"' in text
    assert "[REPAIR ATTEMPT] repair feedback provided" in text
    assert "SUCCESS in 2 iteration(s) using RepairTemplateStrategy" in text
    assert "best_validation_score=1/1" in text


def test_the_package_reexports_every_logger() -> None:
    import mellea.plugins.builtin_debug as debug

    assert debug.log_generation_pre_call is log_generation_pre_call
    assert debug.log_sampling_loop_end is log_sampling_loop_end
