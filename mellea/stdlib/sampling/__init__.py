"""Sampling strategies: the instruct -> validate -> repair loop and its parallel variants.

```python
from mellea.stdlib.sampling import RejectionSamplingStrategy

thunk = await m.ainstruct("...", requirements=[...], strategy=RejectionSamplingStrategy(loop_budget=3))
# returned at once; the loop runs in the background. Later:
await thunk.avalue()              # the selected attempt's text
thunk.sampling_result.success     # did an attempt pass every requirement?
```
Sequential: `RejectionSamplingStrategy` (the default, `loop_budget=2`),
`RepairTemplateStrategy`, `MultiTurnStrategy`, or your own `BaseSamplingStrategy`.
Parallel: `BestOfNSamplingStrategy`, `MajorityVotingStrategy`, and in
`mellea.stdlib.sampling.majority_voting` `MajorityVotingStrategyForMath` and
`MBRDRougeLStrategy`. What a strategy-run thunk streams, and where the attempts are:
see `mellea.stdlib.sampling.lazy`.
"""

from ...core.sampling import SamplingResult
from .base import (
    BaseSamplingStrategy,
    MultiTurnStrategy,
    RejectionSamplingStrategy,
    RepairTemplateStrategy,
    SamplingStrategy,
)
from .lazy import SampledThunk
from .parallel import BestOfNSamplingStrategy, BestofNSamplingStrategy, MajorityVotingStrategy
from .run import SamplingRun

__all__ = [
    "BaseSamplingStrategy",
    "BestOfNSamplingStrategy",
    "BestofNSamplingStrategy",
    "MajorityVotingStrategy",
    "MultiTurnStrategy",
    "RejectionSamplingStrategy",
    "RepairTemplateStrategy",
    "SampledThunk",
    "SamplingResult",
    "SamplingRun",
    "SamplingStrategy",
]
