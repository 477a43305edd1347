"""Section 6: the embedded engine through mellea's API, vs llama_cpp called directly.

* One stream: tokens/s of `await (await m.ainstruct(PROMPT)).avalue()` on a
  `LocalBackend(n_threads=1)` vs `llama_cpp.Llama(...).create_chat_completion` on the
  same model, prompt and settings (greedy, 128 new tokens, repeat_penalty 1.1, n_ctx
  4096, 1 thread), interleaved — goal >= 0.97x. Both sides keep their own prompt cache
  across runs, as each naturally does. Tokens are the generations' own counts.
* Aggregate tokens/s of 4 simultaneous thunks vs 1 (batched decoding), and the time to
  first token of the 4th vs the 1st of those 4.

`bench/engine_bench.py` measures the engine itself (batched vs sequential, N = 1..8);
this section measures what a mellea program gets.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from mellea.backends import ModelOption
from mellea.backends._llama import default_model_path
from mellea.backends.local import DEFAULT_REPEAT_PENALTY, LocalBackend
from mellea.core.thunk import ModelOutputThunk
from mellea.stdlib.session import MelleaSession

from ._report import Goal, Row

SECTION = "6 engine"
PROMPT = "Write a long story about a robot learning to cook in Paris."
PROMPTS = [PROMPT, *(f"Write a long story about {s}." for s in ("a dragon", "a chef", "a cat"))]
TOKENS = 128
N_CTX = 4096
THREADS = 1
OPTIONS = {ModelOption.MAX_NEW_TOKENS: TOKENS, ModelOption.TEMPERATURE: 0.0}


def _completion_tokens(mot: ModelOutputThunk[Any]) -> int:
    usage = mot.generation.usage or {}
    return int(usage.get("completion_tokens", 0))


async def _ours(m: MelleaSession) -> float:
    t0 = time.perf_counter()
    mot = await m.ainstruct(PROMPT, model_options=OPTIONS)
    await mot.avalue()
    return _completion_tokens(mot) / (time.perf_counter() - t0)


def _direct(llm: Any) -> float:
    t0 = time.perf_counter()
    out = llm.create_chat_completion(
        [{"role": "user", "content": PROMPT}],
        max_tokens=TOKENS,
        temperature=0.0,
        repeat_penalty=DEFAULT_REPEAT_PENALTY,
    )
    return int(out["usage"]["completion_tokens"]) / (time.perf_counter() - t0)


async def _first_then_value(mot: ModelOutputThunk[Any], t0: float) -> float:
    await mot.astream()  # the first chunk; after that no per-token wake-ups
    first = time.perf_counter() - t0
    await mot.avalue()
    return first


async def _together(m: MelleaSession, prompts: list[str]) -> tuple[float, list[float]]:
    """Aggregate tokens/s of `prompts` started at once, and each one's time to first token."""
    t0 = time.perf_counter()
    thunks = [await m.ainstruct(p, model_options=OPTIONS) for p in prompts]
    firsts = await asyncio.gather(*(_first_then_value(t, t0) for t in thunks))
    wall = time.perf_counter() - t0
    return sum(_completion_tokens(t) for t in thunks) / wall, sorted(firsts)


async def _measure(runs: int) -> dict[str, float]:
    import llama_cpp

    m = MelleaSession(LocalBackend(n_ctx=N_CTX, n_threads=THREADS))
    llm = llama_cpp.Llama(
        default_model_path(), n_ctx=N_CTX, n_threads=THREADS, n_threads_batch=THREADS,
        verbose=False,
    )  # fmt: skip
    ours: list[float] = []
    direct: list[float] = []
    await _ours(m)  # loads the model, fills the prompt cache
    _direct(llm)
    for _ in range(runs):
        direct.append(_direct(llm))
        ours.append(await _ours(m))
    llm.close()

    one: list[float] = []
    four: list[float] = []
    ttft_first: list[float] = []
    ttft_fourth: list[float] = []
    await _together(m, PROMPTS)  # every prompt seen once: both sides start cache-warm
    for _ in range(max(2, runs // 2)):
        one.append((await _together(m, PROMPTS[:1]))[0])
        rate, firsts = await _together(m, PROMPTS)
        four.append(rate)
        ttft_first.append(firsts[0])
        ttft_fourth.append(firsts[-1])
    await m.aclose()
    med = statistics.median
    return {
        "ours": med(ours), "direct": med(direct), "one": med(one), "four": med(four),
        "ttft_first": med(ttft_first), "ttft_fourth": med(ttft_fourth),
    }  # fmt: skip


def run(runs: int = 5) -> list[Row]:
    r = asyncio.run(_measure(runs))
    return [
        Row(SECTION, f"tokens/s, mellea ainstruct vs llama_cpp direct ({TOKENS} tokens, "
            f"{THREADS} thread)", r["ours"], r["direct"], "tok/s", Goal(">=", 0.97)),
        Row(SECTION, "aggregate tokens/s, 4 simultaneous thunks vs 1", r["four"], r["one"],
            "tok/s", note=f"{THREADS} thread: decoding is compute-bound, batching adds little"),
        Row(SECTION, "time to first token, 4th vs 1st of 4 simultaneous", r["ttft_fourth"] * 1e3,
            r["ttft_first"] * 1e3, "ms"),
    ]  # fmt: skip
