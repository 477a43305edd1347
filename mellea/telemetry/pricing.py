"""Token prices, for the `mellea.llm.cost.usd` metric.

**Default source: LiteLLM's model price table** — the `model_prices_and_context_window_backup.json`
that ships inside the `litellm` package (`mellea[litellm]`): thousands of hosted models,
maintained with each LiteLLM release, per-token input / output prices plus prompt-cache
read and write prices, in the schema the docs' `MELLEA_PRICING_FILE` uses. It is read as a
data file: LiteLLM itself is never imported (its import takes about a second and by
default fetches a newer table over the network), and the file loads on a worker thread
the first time a cost is computed on mellea's I/O loop.

`MELLEA_PRICING_FILE` (a JSON object, model id → `input_cost_per_token`,
`output_cost_per_token`, optional `cache_read_input_token_cost`,
`cache_creation_input_token_cost`) adds models or overrides the defaults; a file that
cannot be read is a logged warning. `MELLEA_PRICING_ENABLED=false` turns pricing off;
unset, it is on whenever a table exists (LiteLLM installed, or a pricing file).
Models without a price (local and private ones) get one warning each and no cost.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._config import env_tristate

__all__ = [
    "acompute_cost",
    "compute_cost",
    "is_pricing_enabled",
    "preload_prices",
    "reset_pricing",
]

logger = logging.getLogger("mellea.telemetry")

_LITELLM_TABLE = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float | None = None
    cache_creation: float | None = None


def _price(entry: Any) -> Price | None:
    if not isinstance(entry, dict):
        return None
    numbers = {k: v for k, v in entry.items() if isinstance(v, int | float)}
    if "input_cost_per_token" not in numbers and "output_cost_per_token" not in numbers:
        return None
    return Price(
        input=float(numbers.get("input_cost_per_token", 0.0)),
        output=float(numbers.get("output_cost_per_token", 0.0)),
        cache_read=numbers.get("cache_read_input_token_cost"),
        cache_creation=numbers.get("cache_creation_input_token_cost"),
    )


def default_table_path() -> Path | None:
    """Where LiteLLM's bundled price table is (None if LiteLLM is not installed)."""
    try:
        spec = importlib.util.find_spec("litellm")  # finds, does not import
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / _LITELLM_TABLE
        if path.is_file():
            return path
    return None


def _read(path: Path | str, what: str) -> dict[str, Price]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("cannot read the %s %s (%s); it is ignored", what, path, exc)
        return {}
    if not isinstance(data, dict):
        logger.warning("the %s %s is not a JSON object; it is ignored", what, path)
        return {}
    return {str(k): p for k, v in data.items() if (p := _price(v)) is not None}


_lock = threading.Lock()
_table: dict[str, Price] | None = None
_enabled: bool | None = None
_warned: set[str] = set()


def is_pricing_enabled() -> bool:
    """True when costs are computed: a price table exists and `MELLEA_PRICING_ENABLED`
    is not false (true without any table: a warning, and off)."""
    global _enabled
    if _enabled is None:
        asked = env_tristate("MELLEA_PRICING_ENABLED")
        available = default_table_path() is not None or bool(os.environ.get("MELLEA_PRICING_FILE"))
        if asked is True and not available:
            logger.warning(
                "MELLEA_PRICING_ENABLED=true but there is no price table: install "
                "LiteLLM (pip install 'mellea[litellm]') or set MELLEA_PRICING_FILE"
            )
        _enabled = available and asked is not False
    return _enabled


def _prices() -> dict[str, Price]:
    global _table
    table = _table
    if table is not None:
        return table
    with _lock:
        if _table is None:
            default = default_table_path()
            loaded = _read(default, "LiteLLM price table") if default else {}
            custom = os.environ.get("MELLEA_PRICING_FILE", "").strip()
            if custom:
                loaded.update(_read(custom, "pricing file (MELLEA_PRICING_FILE)"))
            _table = loaded
        return _table


def _lookup(table: dict[str, Price], model: str, provider: str | None) -> Price | None:
    candidates = [model]
    if provider:
        candidates.append(f"{provider}/{model}")
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        found = table.get(name) or table.get(name.lower())
        if found is not None:
            return found
    return None


def compute_cost(
    model: str,
    provider: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cached_tokens: int | None = None,
    cache_creation_tokens: int | None = None,
) -> float | None:
    """The cost of a request in USD, or None when pricing is off or the model has no price.

    `prompt_tokens` counts every input token (OpenAI's convention): the cached ones
    (`cached_tokens`, billed at the cache-read price) and those written to the cache
    (`cache_creation_tokens`) are taken out of it and priced at their own rates.
    """
    if not is_pricing_enabled() or not model:
        return None
    price = _lookup(_prices(), model, provider)
    if price is None:
        if model not in _warned:
            _warned.add(model)
            logger.warning("no price for model %r: no cost is recorded for it", model)
        return None
    cached = cached_tokens or 0
    creation = cache_creation_tokens or 0
    uncached = max((prompt_tokens or 0) - cached - creation, 0)
    return (
        uncached * price.input
        + cached * (price.cache_read if price.cache_read is not None else price.input)
        + creation * (price.cache_creation if price.cache_creation is not None else price.input)
        + (completion_tokens or 0) * price.output
    )


async def acompute_cost(
    model: str,
    provider: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cached_tokens: int | None = None,
    cache_creation_tokens: int | None = None,
) -> float | None:
    """`compute_cost` for event loops: the table's first load runs on a worker thread."""
    if _table is None and is_pricing_enabled():
        await asyncio.to_thread(_prices)
    return compute_cost(
        model, provider, prompt_tokens, completion_tokens, cached_tokens, cache_creation_tokens
    )


def preload_prices() -> None:
    """Start loading the price table on a worker thread (so no call waits for it)."""
    if _table is None:
        threading.Thread(target=_prices, name="mellea-pricing", daemon=True).start()


def reset_pricing() -> None:
    """Forget the loaded table and the environment's answer (read again on next use)."""
    global _table, _enabled
    with _lock:
        _table, _enabled = None, None
        _warned.clear()
