"""LocalBackend: the real embedded model (SmolLM2-135M) in-process, short generations."""

from __future__ import annotations

import asyncio
import runpy
import sys
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

import mellea
from mellea.backends import ModelOption
from mellea.backends.local import LocalBackend
from mellea.core.errors import EngineError, InvalidOptionError
from mellea.stdlib.session import MelleaSession

pytestmark = pytest.mark.model
SHORT = {ModelOption.MAX_NEW_TOKENS: 24}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "spec"


@pytest.fixture(scope="module")
def m() -> MelleaSession:
    return MelleaSession(LocalBackend(n_threads=1))


async def test_generation_is_lazy_and_real(m: MelleaSession) -> None:
    mot = await m.ainstruct("Name a color.", model_options=SHORT)
    assert not mot.is_computed()
    text = await mot.avalue()
    assert text.strip()
    usage = mot.generation.usage or {}
    assert usage["completion_tokens"] > 0 and usage["prompt_tokens"] > 5
    assert mot.generation.finish_reasons in (["stop"], ["length"])


async def test_streaming_deltas_join_to_the_value(m: MelleaSession) -> None:
    mot = await m.ainstruct(
        "Tell a story about a cat.", model_options={**SHORT, ModelOption.STREAM: True}
    )
    deltas = [d async for d in mot]
    assert len(deltas) > 5 and "".join(deltas) == mot.value
    assert mot.generation.ttfb_ms is not None


async def test_json_output_follows_the_schema(m: MelleaSession) -> None:
    class Person(BaseModel):
        name: str
        age: int

    mot = await m.ainstruct(
        "Make up a person.", format=Person, model_options={ModelOption.MAX_NEW_TOKENS: 60}
    )
    await mot.avalue()
    assert isinstance(mot.parsed_repr, Person)
    truncated = await m.ainstruct(
        "Make up a person.", format=Person, model_options={ModelOption.MAX_NEW_TOKENS: 3}
    )
    await truncated.avalue()  # a truncated constrained output is kept, not a crash
    assert truncated.generation.finish_reasons == ["length"]
    assert truncated.parsed_repr is None and "parse_error" in truncated.generation.extra


async def test_cancel_stops_the_generation_and_frees_the_engine(m: MelleaSession) -> None:
    mot = await m.ainstruct("Write a long story.", model_options={ModelOption.MAX_NEW_TOKENS: 400})
    await mot.astream()
    t0 = time.perf_counter()
    await mot.acancel()
    assert time.perf_counter() - t0 < 1.0
    assert mot.is_cancelled() and mot.partial_value
    nxt = await m.ainstruct("Say hi.", model_options=SHORT)
    assert (await nxt.avalue()).strip()


async def test_concurrent_thunks_decode_together_without_crash(m: MelleaSession) -> None:
    thunks = [await m.ainstruct(f"Write a poem about {t}.", model_options=SHORT)
              for t in ("rain", "snow", "wind", "fog")]  # fmt: skip
    values = await asyncio.gather(*(t.avalue() for t in thunks))
    assert all(v.strip() for v in values)


async def test_greedy_is_deterministic(m: MelleaSession) -> None:
    a = await m.ainstruct("Name three fruits.", model_options=SHORT)
    b = await m.ainstruct("Name three fruits.", model_options=SHORT)
    assert await a.avalue() == await b.avalue()


def test_sync_twin(m: MelleaSession) -> None:
    assert m.chat("Hello!", model_options=SHORT).content.strip()


def test_bad_engine_options_are_rejected_early() -> None:
    with pytest.raises(InvalidOptionError, match="no option"):
        LocalBackend(n_threads=1, model_options={"num_predict": 3})
    with pytest.raises(InvalidOptionError, match="must be a number"):
        LocalBackend(n_threads=1, model_options={"top_k": "many"})


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="not found"):
        LocalBackend(str(tmp_path / "nope.gguf"))


def test_start_session_falls_back_to_the_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens there
    session = mellea.start_session()
    assert isinstance(session.backend, LocalBackend)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_spec_examples_run_on_the_embedded_model(
    example: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    monkeypatch.setattr(sys, "argv", [example])
    runpy.run_path(str(EXAMPLES / example), run_name="__main__")
    out = capsys.readouterr().out
    assert len(out.strip()) > 20, out
    if example.startswith("02"):
        assert out.splitlines()[0] == "False"


def test_tool_calls_through_constrained_json(m: MelleaSession) -> None:
    from mellea.backends.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city.

        Args:
            city: The city name.
        """
        return f"sunny in {city}"

    options = {
        ModelOption.TOOLS: [get_weather],
        ModelOption.TOOL_CHOICE: "required",
        ModelOption.MAX_NEW_TOKENS: 60,
    }
    mot = m.instruct("What is the weather in Boston?", model_options=options, tool_calls=True)
    assert mot.tool_calls is not None and list(mot.tool_calls) == ["get_weather"]
    call = mot.tool_calls["get_weather"]
    assert set(call.args) == {"city"} and isinstance(call.args["city"], str)
    assert call.call_func().startswith("sunny in ")
    none = m.instruct("Say hi.", model_options={**options, ModelOption.TOOL_CHOICE: "none"})
    assert none.tool_calls is None and none.value


async def test_logits_reach_the_thunk(m: MelleaSession) -> None:
    opts = {ModelOption.MAX_NEW_TOKENS: 4, ModelOption.LOGITS: True, ModelOption.RAW_LOGITS: True}
    mot = await m.ainstruct("Name a fruit.", model_options=opts)
    await mot.avalue()
    gen = mot.generation
    assert isinstance(gen.logits, tuple) and isinstance(gen.raw_logits, tuple)
    assert len(gen.logits) == len(gen.raw_logits) >= gen.usage["completion_tokens"]  # type: ignore[index]
    assert gen.logits[0].shape == gen.raw_logits[0].shape and gen.logits[0].ndim == 1
    plain = await m.ainstruct("Name a fruit.", model_options={ModelOption.MAX_NEW_TOKENS: 4})
    assert await plain.avalue() == mot.value and plain.generation.logits is None
    with pytest.raises(InvalidOptionError, match="batched"):
        LocalBackend(n_threads=1, batched=False, model_options={ModelOption.LOGITS: True})


async def test_raw_completions_in_one_batch(m: MelleaSession) -> None:
    from mellea.core.base import CBlock
    from mellea.stdlib.context import SimpleContext

    backend = m.backend
    prompts = ["The capital of France is", "1, 2, 3, 4,"]
    mots = await backend.generate_from_raw(
        [CBlock(p) for p in prompts], SimpleContext(), model_options={ModelOption.MAX_NEW_TOKENS: 6}
    )
    assert [mot.is_computed() for mot in mots] == [False, False]  # returned at once
    texts = await asyncio.gather(*(mot.avalue() for mot in mots))
    assert "Paris" in texts[0] and "5" in texts[1]
    assert [mot._prompt for mot in mots] == prompts
    assert all(mot.generation.usage["completion_tokens"] == 6 for mot in mots)  # type: ignore[index]


def test_images_are_refused_clearly(m: MelleaSession) -> None:
    from mellea.core.message import Message

    with pytest.raises(InvalidOptionError, match="cannot take images"):
        m.act(Message("user", "What is in this picture?", images=[_png_block()]))


def _png_block() -> object:
    import base64

    from mellea.core.base import CBlock

    # A 1x1 PNG; any image block the formatter carries as an image.
    png = base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
        )
    ).decode()
    return CBlock(png)
