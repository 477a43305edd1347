"""How many threads llama.cpp gets (see `default_n_threads`)."""

from __future__ import annotations

import os

THREADS_ENV = "MELLEA_LOCAL_THREADS"


def default_n_threads() -> int:
    """Threads for llama.cpp: ``$MELLEA_LOCAL_THREADS``, else one less than the usable cores.

    Why not all cores: llama.cpp's worker threads spin-wait on each other at every graph
    step, so when any other process or thread (our own asyncio loop included) takes one
    of the cores, the whole computation stalls behind the preempted worker. Measured on
    a 2-core machine with SmolLM2-135M: 2 threads give 182 tok/s idle but 35 tok/s next to
    one busy process; 1 thread gives 150 tok/s in both cases.
    """
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {env!r}") from None
        if value < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {env!r}")
        return value
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


__all__ = ["THREADS_ENV", "default_n_threads"]
