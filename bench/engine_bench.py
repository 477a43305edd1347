"""Benchmark of the embedded llama.cpp engine (mellea.backends._llama). Prints markdown.

    .venv/bin/python bench/engine_bench.py [--threads N] [--tokens 128] [--agg-tokens 64]

1. One stream: tokens/s of ``Engine`` (batched and sequential) vs calling
   ``llama_cpp.Llama.create_chat_completion(stream=True)`` directly, same prompts and
   settings (greedy, repeat_penalty 1.1). Every run uses a new prompt, so each side only
   reuses what it naturally caches (the shared system-prompt prefix).
2. Aggregate tokens/s with N = 1, 2, 4, 8 simultaneous requests, batched vs sequential.
3. Time to first token of the 1st and 4th of 4 simultaneous requests.
4. Greedy outputs of the 4 simultaneous batched requests vs the same prompts run alone.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mellea.backends._llama import (
    Engine,
    GenerationParams,
    default_model_path,
    default_n_threads,
)

SUBJECTS = ["a robot", "a dragon", "an old sailor", "a young witch", "a lost cat", "a chef"]
PLACES = ["in Paris", "on Mars", "under the sea", "in a forest", "in a library", "at school"]
# A new prompt for every request, so no request is a full-prompt cache hit.
_prompts = (
    f"Write a long story about {s} {p}." if round_ == 0 else f"Story {round_}: {s} {p}."
    for round_ in itertools.count()
    for s, p in itertools.product(SUBJECTS, PLACES)
)


def next_prompt() -> list[dict[str, str]]:
    return [{"role": "user", "content": next(_prompts)}]


@dataclass
class Timing:
    t0: float = field(default_factory=time.perf_counter)
    first: float | None = None
    end: float | None = None
    tokens: int = 0
    reason: str = ""
    text: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    # TokenSink
    def on_start(self, prompt_tokens: int) -> None:
        pass

    def on_text(self, delta: str) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.text.append(delta)

    def on_finish(self, reason: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.end, self.tokens, self.reason = time.perf_counter(), completion_tokens, reason
        self.done.set()

    def on_error(self, exc: BaseException) -> None:
        print(f"job failed: {exc!r}", file=sys.stderr)
        self.end = time.perf_counter()
        self.done.set()

    @property
    def ttft(self) -> float:
        return (self.first or self.end or self.t0) - self.t0

    @property
    def e2e_rate(self) -> float:
        return self.tokens / ((self.end or self.t0) - self.t0)

    @property
    def decode_rate(self) -> float:
        span = (self.end or 0.0) - (self.first or 0.0)
        return (self.tokens - 1) / span if span > 0 else 0.0


def engine_run(engine: Engine, messages: list[dict[str, str]], params: GenerationParams) -> Timing:
    t = Timing()
    engine.submit(messages, params, t)
    t.done.wait()
    return t


def direct_run(llm: Any, messages: list[dict[str, str]], params: GenerationParams) -> Timing:
    t = Timing()
    stream = llm.create_chat_completion(
        messages,
        max_tokens=params.max_tokens,
        temperature=0.0,
        repeat_penalty=params.repeat_penalty,
        stream=True,
    )
    for chunk in stream:
        choice = chunk["choices"][0]
        delta = choice["delta"].get("content")
        if delta:
            t.on_text(delta)
            t.tokens += 1  # approximation; replaced below
        if choice.get("finish_reason"):
            t.reason = choice["finish_reason"]
    t.end = time.perf_counter()
    # Streamed chunks are not exactly tokens: count the output's tokens instead.
    t.tokens = len(llm.tokenize("".join(t.text).encode(), add_bos=False, special=False))
    return t


def single_stream(threads: int, tokens: int, runs: int) -> list[tuple[str, float, float, float]]:
    import llama_cpp

    params = GenerationParams(max_tokens=tokens)
    rows = []
    llm = llama_cpp.Llama(
        default_model_path(), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    direct_run(llm, next_prompt(), GenerationParams(max_tokens=4))  # warm-up
    results = [direct_run(llm, next_prompt(), params) for _ in range(runs)]
    llm.close()
    rows.append(("llama_cpp.Llama direct", *_medians(results)))
    for label, batched in (("Engine batched", True), ("Engine sequential", False)):
        engine = Engine(n_threads=threads, batched=batched)
        engine_run(engine, next_prompt(), GenerationParams(max_tokens=4))  # load + warm-up
        results = [engine_run(engine, next_prompt(), params) for _ in range(runs)]
        engine.close()
        rows.append((label, *_medians(results)))
    return rows


def _medians(results: list[Timing]) -> tuple[float, float, float]:
    return (
        statistics.median(r.e2e_rate for r in results),
        statistics.median(r.decode_rate for r in results),
        statistics.median(r.ttft for r in results),
    )


def concurrent(engine: Engine, n: int, tokens: int) -> tuple[float, list[Timing], list[Any]]:
    params = GenerationParams(max_tokens=tokens)
    prompts = [next_prompt() for _ in range(n)]
    timings = [Timing() for _ in range(n)]
    start = time.perf_counter()
    for prompt, t in zip(prompts, timings, strict=True):
        t.t0 = time.perf_counter()
        engine.submit(prompt, params, t)
    for t in timings:
        t.done.wait()
    wall = max(t.end or start for t in timings) - start
    return sum(t.tokens for t in timings) / wall, timings, prompts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=default_n_threads())
    ap.add_argument("--tokens", type=int, default=128, help="max_tokens, single-stream runs")
    ap.add_argument("--agg-tokens", type=int, default=64, help="max_tokens, concurrent runs")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    t_start = time.perf_counter()
    print(
        f"# Engine benchmark\n\nmodel `{os.path.basename(default_model_path())}`, "
        f"n_threads={args.threads}, cpus={os.cpu_count()}, greedy, repeat_penalty=1.1\n"
    )

    rows = single_stream(args.threads, args.tokens, args.runs)
    base = rows[0][1]
    print(f"## One stream ({args.tokens} tokens, median of {args.runs})\n")
    print("| path | tok/s end-to-end | vs direct | decode tok/s | TTFT s |")
    print("|---|---|---|---|---|")
    for label, e2e, dec, ttft in rows:
        print(f"| {label} | {e2e:.1f} | {e2e / base:.2f}x | {dec:.1f} | {ttft:.3f} |")

    agg: dict[str, dict[int, float]] = {}
    ttfts: dict[str, tuple[float, float]] = {}
    batched_four: tuple[list[Timing], list[Any]] | None = None
    for label, batched in (("batched", True), ("sequential", False)):
        engine = Engine(n_threads=args.threads, batched=batched)
        engine_run(engine, next_prompt(), GenerationParams(max_tokens=4))
        # Pass 1 starts with cold caches (fresh engine); pass 2 is the steady state, where
        # each KV slot (batched) or the single context (sequential) already holds an
        # earlier prompt sharing the system-prompt prefix.
        for pass_ in (1, 2):
            agg[f"{label} p{pass_}"] = {}
            for n in (1, 2, 4, 8):
                rate, timings, prompts = concurrent(engine, n, args.agg_tokens)
                agg[f"{label} p{pass_}"][n] = rate
                if n == 4 and pass_ == 2:
                    ttfts[label] = (timings[0].ttft, timings[3].ttft)
                    if batched:
                        batched_four = (timings, prompts)
        if batched and batched_four is not None:
            solo = [
                engine_run(engine, p, GenerationParams(max_tokens=args.agg_tokens))
                for p in batched_four[1]
            ]
            same = sum(
                "".join(a.text) == "".join(b.text)
                for a, b in zip(solo, batched_four[0], strict=True)
            )
        engine.close()

    print(f"\n## Concurrent requests ({args.agg_tokens} tokens each), aggregate tok/s\n")
    print("| N | batched cold | sequential cold | batched warm | sequential warm | warm b/s |")
    print("|---|---|---|---|---|---|")
    for n in (1, 2, 4, 8):
        bc, sc = agg["batched p1"][n], agg["sequential p1"][n]
        bw, sw = agg["batched p2"][n], agg["sequential p2"][n]
        print(f"| {n} | {bc:.1f} | {sc:.1f} | {bw:.1f} | {sw:.1f} | {bw / sw:.2f}x |")
    print()
    for label in ("batched", "sequential"):
        for pass_, name in ((1, "cold"), (2, "warm")):
            r = agg[f"{label} p{pass_}"]
            print(f"- {label} {name}: N=4/N=1 = {r[4] / r[1]:.2f}x, N=8/N=1 = {r[8] / r[1]:.2f}x")

    print("\n## Time to first token, 4 simultaneous requests (warm)\n")
    print("| engine | 1st s | 4th s | 4th/1st |")
    print("|---|---|---|---|")
    for label, (first, fourth) in ttfts.items():
        print(f"| {label} | {first:.3f} | {fourth:.3f} | {fourth / first:.2f}x |")
    print(f"\nGreedy batched (N=4) outputs identical to solo runs: {same}/4")
    print(f"\n_total bench time {time.perf_counter() - t_start:.0f} s_")


if __name__ == "__main__":
    main()
