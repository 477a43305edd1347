"""Sampling presets: a strategy and the requirements it is meant for, in one value.

```python
from mellea.stdlib.sampling import python_code_generation_sampling

preset = python_code_generation_sampling(allowed_imports=["math"])
code = m.instruct("Write a program that prints the 10th prime.",
                  requirements=preset.requirements, strategy=preset.strategy)
```
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...core.requirement import Requirement
from .base import SamplingStrategy
from .feedback import ModelFriendlyRepairStrategy


@dataclass
class SamplingPreset:
    """Requirements and a strategy that go together (plus how to use them)."""

    requirements: list[Requirement]
    strategy: SamplingStrategy
    feedback_strategy_name: str = "default"
    description: str | None = None
    example_usage: str | None = None


def python_code_generation_sampling(
    loop_budget: int = 2,
    *,
    allowed_imports: list[str] | None = None,
    output_limit_chars: int = 10000,
    timeout_seconds: int = 5,
    use_sandbox: bool = False,
) -> SamplingPreset:
    """Generate a Python program that runs (in the sandboxed local tier; `use_sandbox`:
    docker), repaired with model-friendly feedback up to `loop_budget` attempts."""
    from ..requirements.python_tools import python_code_generation_requirements

    return SamplingPreset(
        python_code_generation_requirements(
            allowed_imports, output_limit_chars, timeout_seconds, use_sandbox
        ),
        ModelFriendlyRepairStrategy(loop_budget=loop_budget),
        feedback_strategy_name="model_friendly",
        description="Python code that parses, uses only allowed imports and runs cleanly.",
        example_usage=(
            "preset = python_code_generation_sampling()\n"
            "m.instruct(task, requirements=preset.requirements, strategy=preset.strategy)"
        ),
    )


def python_plotting_sampling(
    output_path: str | None = None,
    loop_budget: int = 3,
    *,
    allowed_imports: list[str] | None = None,
    timeout_seconds: int = 10,
    use_sandbox: bool = False,
) -> SamplingPreset:
    """Generate a matplotlib program that saves its plot to `output_path` (a fresh
    temporary file when None). The run is sandboxed (`"local"`; `use_sandbox`: docker —
    the reference defaulted to docker because its local tier was not isolated)."""
    from ..requirements.plotting import python_plotting_requirements

    if output_path is None:
        output_path = str(Path(tempfile.mkdtemp(prefix="mellea-plot-")) / "plot.png")
    return SamplingPreset(
        python_plotting_requirements(
            output_path, allowed_imports, timeout_seconds=timeout_seconds, use_sandbox=use_sandbox
        ),
        ModelFriendlyRepairStrategy(loop_budget=loop_budget),
        feedback_strategy_name="model_friendly",
        description=f"A headless matplotlib program that saves its plot to {output_path}.",
        example_usage=(
            "preset = python_plotting_sampling('/tmp/plot.png')\n"
            "m.instruct(task, requirements=preset.requirements, strategy=preset.strategy)"
        ),
    )


__all__ = ["SamplingPreset", "python_code_generation_sampling", "python_plotting_sampling"]
