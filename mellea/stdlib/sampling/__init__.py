"""Sampling strategies: the instruct -> validate -> repair loop and its parallel variants.

```python
from mellea.stdlib.sampling import RejectionSamplingStrategy

thunk = await m.ainstruct("...", requirements=[...], strategy=RejectionSamplingStrategy(loop_budget=3))
# returned at once; the loop runs in the background. Later:
await thunk.avalue()              # the selected attempt's text
thunk.sampling_result.success     # did an attempt pass every requirement?
```
Sequential: `RejectionSamplingStrategy` (the default, `loop_budget=2`),
`RepairTemplateStrategy`, `MultiTurnStrategy`, `ModelFriendlyRepairStrategy` (repair
feedback a model can act on), `SOFAISamplingStrategy` (a fast solver, then a slow one),
`BudgetForcingSamplingStrategy` (thinking and answer token budgets), or your own
`BaseSamplingStrategy`. Parallel: `BestOfNSamplingStrategy`, `MajorityVotingStrategy`,
`MajorityVotingStrategyForMath`, `MBRDRougeLStrategy` (override `compare_strings` on a
`BaseMBRDSampling` for your own). Presets (`SamplingPreset`): requirements and a
strategy that go together (`python_code_generation_sampling`,
`python_plotting_sampling`). What a strategy-run thunk streams, and where the attempts
are: see `mellea.stdlib.sampling.lazy`.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_getattr
from ...core.sampling import SamplingResult
from .base import (
    BaseSamplingStrategy,
    MultiTurnStrategy,
    RejectionSamplingStrategy,
    RepairTemplateStrategy,
    SamplingStrategy,
)
from .lazy import SampledThunk
from .run import SamplingRun

# The other strategies (and what they import: fractions, tempfile, the code requirements)
# load on first use; every session's sampling loop needs only `base`, `run` and `lazy`.
_MODULES = {
    "budget_forcing": ("BudgetForcingSamplingStrategy",),
    "feedback": ("ModelFriendlyFeedbackFormatter", "ModelFriendlyRepairStrategy"),
    "majority_voting": ("BaseMBRDSampling", "MajorityVotingStrategyForMath", "MBRDRougeLStrategy"),
    "parallel": ("BestOfNSamplingStrategy", "BestofNSamplingStrategy", "MajorityVotingStrategy"),
    "presets": ("SamplingPreset", "python_code_generation_sampling", "python_plotting_sampling"),
    "sofai": ("SOFAISamplingStrategy",),
}
__getattr__ = lazy_getattr(
    __name__, {n: f"{__name__}.{mod}:{n}" for mod, names in _MODULES.items() for n in names}
)

if TYPE_CHECKING:
    from .budget_forcing import BudgetForcingSamplingStrategy
    from .feedback import ModelFriendlyFeedbackFormatter, ModelFriendlyRepairStrategy
    from .majority_voting import BaseMBRDSampling, MajorityVotingStrategyForMath, MBRDRougeLStrategy
    from .parallel import BestOfNSamplingStrategy, BestofNSamplingStrategy, MajorityVotingStrategy
    from .presets import SamplingPreset, python_code_generation_sampling, python_plotting_sampling
    from .sofai import SOFAISamplingStrategy

__all__ = [
    "BaseMBRDSampling",
    "BaseSamplingStrategy",
    "BestOfNSamplingStrategy",
    "BestofNSamplingStrategy",
    "BudgetForcingSamplingStrategy",
    "MBRDRougeLStrategy",
    "MajorityVotingStrategy",
    "MajorityVotingStrategyForMath",
    "ModelFriendlyFeedbackFormatter",
    "ModelFriendlyRepairStrategy",
    "MultiTurnStrategy",
    "RejectionSamplingStrategy",
    "RepairTemplateStrategy",
    "SOFAISamplingStrategy",
    "SampledThunk",
    "SamplingPreset",
    "SamplingResult",
    "SamplingRun",
    "SamplingStrategy",
    "python_code_generation_sampling",
    "python_plotting_sampling",
]
