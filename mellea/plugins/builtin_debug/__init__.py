"""Debug plugins that log what generation, validation and sampling do.

```python
from mellea.plugins import register
from mellea.plugins.builtin_debug import log_generation_pre_call, log_generation_post_call

register([log_generation_pre_call, log_generation_post_call])
```

Each logs on its own module's logger (`mellea.plugins.builtin_debug.generation`, ...):
one INFO line per event, details at DEBUG. Configure `logging` to see them.
"""

from .generation import log_generation_post_call, log_generation_pre_call
from .sampling import (
    log_sampling_iteration,
    log_sampling_loop_end,
    log_sampling_loop_start,
    log_sampling_repair,
)
from .validation import log_validation_post_check, log_validation_pre_check

__all__ = [
    "log_generation_post_call",
    "log_generation_pre_call",
    "log_sampling_iteration",
    "log_sampling_loop_end",
    "log_sampling_loop_start",
    "log_sampling_repair",
    "log_validation_post_check",
    "log_validation_pre_check",
]
