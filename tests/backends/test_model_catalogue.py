"""`model_ids`, `get_context_length` and `SimpleLRUCache`."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from mellea.backends import ModelIdentifier, SimpleLRUCache, model_ids
from mellea.backends.cache import Cache
from mellea.backends.context_lengths import get_context_length
from mellea.backends.litellm import LiteLLMBackend
from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend

IDENTIFIERS = {n: v for n, v in vars(model_ids).items() if isinstance(v, ModelIdentifier)}


def test_identifier_fields_in_the_reference_order() -> None:
    names = [f.name for f in dataclasses.fields(ModelIdentifier)]
    assert names[:9] == [
        "hf_model_name", "ollama_name", "watsonx_name", "mlx_name", "openai_name",
        "bedrock_name", "bedrock_litellm_name", "hf_tokenizer_name", "context_length",
    ]  # fmt: skip
    ident = ModelIdentifier("org/model", "model:1b")
    assert (ident.hf_model_name, ident.ollama_name) == ("org/model", "model:1b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ident.ollama_name = "x"  # type: ignore[misc]


def test_catalogue_names_are_well_formed() -> None:
    assert len(IDENTIFIERS) >= 58
    for name, ident in IDENTIFIERS.items():
        served = [ident.hf_model_name, ident.ollama_name, ident.openai_name, ident.bedrock_name]
        assert any(served), name
        if ident.hf_model_name:
            assert ident.hf_model_name.count("/") == 1, name
        if ident.bedrock_litellm_name:
            assert ident.bedrock_litellm_name.startswith("bedrock/"), name
        assert ident.context_length is None or ident.context_length >= 4096, name


def test_each_backend_sends_its_own_name_for_an_identifier() -> None:
    granite = model_ids.IBM_GRANITE_4_1_3B
    assert OllamaModelBackend(granite).model_id == "granite4.1:3b"
    # An OpenAI-compatible server (vLLM, SGLang) serves the Hugging Face name.
    openai = OpenAIBackend(granite, base_url="http://127.0.0.1:9/v1")
    assert openai.model_id == "ibm-granite/granite-4.1-3b"
    assert openai.base_model_name == "ibm-granite/granite-4.1-3b"
    assert openai.model_identifier is granite
    nemotron = model_ids.NVIDIA_NEMOTRON_3_NANO_30B_A3B
    assert OpenAIBackend(nemotron, base_url="http://127.0.0.1:9/v1").model_id == (
        "nvidia/nemotron-3-nano-30b-a3b"
    )
    assert LiteLLMBackend(model_ids.OPENAI_GPT_5_1).model_id == "gpt-5.1"
    with pytest.raises(ValueError, match="no model name for the ollama backend"):
        OllamaModelBackend(model_ids.OPENAI_GPT_5_1)


def test_context_length_by_identifier_and_by_name() -> None:
    assert get_context_length(model_ids.IBM_GRANITE_4_1_3B) == 131072
    assert get_context_length("granite4.1:3b") == 131072
    assert get_context_length("ibm-granite/granite-guardian-3.0-2b") == 4096
    assert get_context_length("Qwen/Qwen3-8B") == 40960
    assert get_context_length("no-such-model") is None
    # An identifier without its own length falls back to the catalogue by name.
    assert get_context_length(ModelIdentifier(ollama_name="qwen3:0.6b")) == 32768
    assert get_context_length(ModelIdentifier(hf_model_name="x/y", context_length=999)) == 999
    assert get_context_length(model_ids.OPENAI_GPT_5_1) is None
    with pytest.raises(TypeError):
        get_context_length(42)  # type: ignore[arg-type]


def test_lru_cache_evicts_the_least_recently_used() -> None:
    evicted: list[object] = []
    cache = SimpleLRUCache(2, on_evict=evicted.append)
    assert isinstance(cache, Cache)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert evicted == [2] and cache.get("b") is None
    cache.put("a", 10)  # replacing a value is not an eviction
    assert evicted == [2] and cache.get("a") == 10 and cache.current_size() == 2
    cache.put(7, "int keys work")
    assert evicted == [2, 3] and cache.get(7) == "int keys work"
    with pytest.raises(ValueError):
        SimpleLRUCache(0)


def test_lru_cache_is_thread_safe() -> None:
    cache = SimpleLRUCache(50)

    def worker(base: int) -> None:
        for i in range(2000):
            cache.put(base + i % 100, i)
            cache.get(base + (i * 7) % 100)

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.current_size() == 50
    assert len(cache.cache) == 50
