"""Typed partial objects: `format=Model` streams instances of `Model` filled so far, and a
quick check on the partial object fails on the chunk where the bad field completes."""

from __future__ import annotations

import datetime
import enum
import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

from mellea.backends.ollama import OllamaModelBackend
from mellea.backends.openai import OpenAIBackend
from mellea.core.backend import Backend
from mellea.core.context import Context
from mellea.core.requirement import PartialValidationResult, Requirement, ValidationResult
from mellea.stdlib.components import Instruction
from mellea.stdlib.context import SimpleContext
from mellea.stdlib.streaming import (
    ChunkEvent,
    CompletedEvent,
    FullValidationEvent,
    PartialModelParser,
    QuickCheckEvent,
    stream,
)
from tests.servers import LoopbackServer, Reply


class Kind(enum.Enum):
    CAT = "cat"
    DOG = "dog"


class Address(BaseModel):
    city: str
    zip_code: str | None = Field(default=None, alias="zip")


class Person(BaseModel):
    name: str
    age: int
    born: datetime.date
    kind: Kind
    addresses: list[Address]
    scores: list[float]
    notes: dict[str, Address] = {}


PERSON = Person(
    name='Zoë "Z" \\ \U0001f600',
    age=42,
    born=datetime.date(1983, 5, 17),
    kind=Kind.DOG,
    addresses=[Address(city="Köln\n", zip="50667"), Address(city="Oslo")],
    scores=[1, 2.5],
    notes={"home": Address(city="Rome")},
)
TEXT = json.dumps(PERSON.model_dump(mode="json", by_alias=True))  # \u escapes for non-ASCII


def snapshots(text: str, step: int) -> list[dict[str, Any]]:
    parser = PartialModelParser(Person)
    out = []
    for i in range(0, len(text), step):
        if parser.feed(text[i : i + step]) and parser.value is not None:
            assert isinstance(parser.value, Person)
            out.append(
                {"dump": parser.value.model_dump(), "set": set(parser.value.model_fields_set)}
            )
    return out


@pytest.mark.parametrize("step", [1, 2, 3, 7, 40])
def test_partial_instances_are_typed_and_grow_to_the_final_object(step: int) -> None:
    seen = snapshots(TEXT, step)
    final = PERSON.model_dump()
    assert seen[-1]["dump"] == final  # the last partial is the whole object
    for snap in seen:
        dump = snap["dump"]
        for field, value in dump.items():
            if field not in snap["set"]:
                assert value is None  # not received yet
            elif field == "name":
                assert final["name"].startswith(value)  # a string as far as it went
            elif field in ("age", "born", "kind"):
                assert value == final[field]  # atomic: complete and converted, or absent
            elif field in ("addresses", "scores"):
                assert len(value) <= len(final[field])
                assert value[:-1] == final[field][: max(len(value) - 1, 0)]


def test_field_types_are_the_models() -> None:
    parser = PartialModelParser(Person)
    for ch in TEXT:
        parser.feed(ch)
    value = parser.value
    assert isinstance(value, Person)
    assert isinstance(value.born, datetime.date) and value.kind is Kind.DOG
    assert all(isinstance(a, Address) for a in value.addresses)
    assert value.addresses[0].zip_code == "50667"  # the JSON key is the alias
    assert value.scores == [1.0, 2.5] and isinstance(value.scores[0], float)
    assert isinstance(value.notes["home"], Address)


def test_a_date_shows_only_once_complete() -> None:
    parser = PartialModelParser(Person)
    parser.feed('{"name": "A", "born": "1983-0')
    assert parser.value is not None and parser.value.born is None
    assert parser.value.name == "A"
    parser.feed('5-17"')
    assert parser.value.born == datetime.date(1983, 5, 17)


class AgeBelow150(Requirement):
    """Checks the partial object: fails as soon as `age` is known to be too large."""

    def __init__(self) -> None:
        super().__init__("age must be below 150")
        self.checked: list[Any] = []  # shared by the per-attempt copies (a list)

    async def stream_validate(
        self, chunk: Any, *, backend: Backend, ctx: Context
    ) -> PartialValidationResult:
        assert isinstance(chunk, Person)  # the typed partial object, not text
        self.checked = [*self.checked, chunk.age]  # reassigned: copies don't share it
        if chunk.age is not None and chunk.age >= 150:
            return PartialValidationResult("fail", reason=f"age {chunk.age}")
        return PartialValidationResult("pass" if chunk.age is not None else "unknown")

    async def validate(
        self, backend: Backend, ctx: Context, *, format: Any = None, model_options: Any = None
    ) -> ValidationResult:
        parsed = Person.model_validate_json(str(ctx.last_output()))
        return ValidationResult(parsed.age < 150)


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_age_check_fails_on_the_chunk_where_age_completes(
    kind: str, loopback: LoopbackServer
) -> None:
    bad = TEXT.replace('"age": 42', '"age": 151')
    cut = bad.index("151") + 2  # "15" | "1," — the number completes only with the comma
    chunks = [bad[:20], bad[20:cut], bad[cut : cut + 2]] + [
        bad[i : i + 5] for i in range(cut + 2, len(bad), 5)
    ]
    loopback.configure(token_delay=0.01)
    loopback.enqueue(Reply(chunks=chunks))
    backend: Backend = (
        OllamaModelBackend("m", base_url=loopback.url)
        if kind == "ollama"
        else OpenAIBackend("m", base_url=loopback.openai_base_url)
    )
    requirement = AgeBelow150()
    async with await stream(
        Instruction("A person."), backend, SimpleContext(), format=Person,
        requirements=[requirement], as_events=True,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    checks = [e for e in seen if isinstance(e, QuickCheckEvent)]
    assert not checks[-1].passed and checks[-1].results[0].reason == "age 151"
    # Chunk 2 ("15") did not complete the number; chunk 3 ("1,") did and failed at once.
    assert len(checks) == 3 and [c.passed for c in checks] == [True, True, False]
    assert requirement.checked == []  # the caller's object is untouched; a copy checked
    delivered = [e.partial for e in seen if isinstance(e, ChunkEvent)]
    # Two chunks passed and were delivered: the one live instance, updated in place.
    assert len(delivered) == 2 and delivered[0] is delivered[1]
    assert isinstance(delivered[0], Person) and delivered[0].name
    assert events.failed_early
    path = "/api/chat" if kind == "ollama" else "/v1/chat/completions"
    record = loopback.wait_idle().for_path(path)[-1]
    received = sum(
        1 for i in range(len(chunks)) if len("".join(chunks[: i + 1])) <= len(events.full_text)
    )
    assert 3 <= received < len(chunks) - 2  # it stopped soon after the failing chunk
    assert record.client_disconnected and record.events_sent <= received + 3
    await backend.aclose()


async def test_the_final_object_is_validated_in_full(loopback: LoopbackServer) -> None:
    """Partial objects are lenient (missing fields are None); the end result is not."""
    incomplete = json.dumps({"name": "A", "age": 3})  # valid JSON, not a valid Person
    loopback.enqueue(Reply(chunks=[incomplete[:9], incomplete[9:]]))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    async with await stream(
        Instruction("A person."), backend, SimpleContext(), format=Person,
        requirements=[AgeBelow150()], as_events=True,
    ) as events:  # fmt: skip
        seen = [e async for e in events]
    full = next(e for e in seen if isinstance(e, FullValidationEvent))
    assert not full.passed and "Person" in (full.results[-1].reason or "")
    assert isinstance(seen[-1], CompletedEvent) and not seen[-1].success
    assert not events.failed_early and events.mot.parsed_repr is None
    await backend.aclose()


async def test_partials_stream_to_the_reader_and_the_value_parses(loopback: LoopbackServer) -> None:
    loopback.configure(token_delay=0.005)  # deltas that arrive together are parsed together
    loopback.enqueue(Reply(chunks=[TEXT[i : i + 9] for i in range(0, len(TEXT), 9)]))
    backend = OllamaModelBackend("m", base_url=loopback.url)
    async with await stream(
        Instruction("A person."), backend, SimpleContext(), format=Person
    ) as streamer:
        names = [p.name async for p in streamer]
    assert names[-1] == PERSON.name and len(names) > 5
    assert streamer.completed_normally and streamer.mot.parsed_repr == PERSON
    await backend.aclose()


async def test_partial_objects_of_a_sampled_attempt(loopback: LoopbackServer) -> None:
    """`ainstruct(format=...)`: the attempt's partial objects while the loop validates."""
    from mellea.backends import ModelOption
    from mellea.stdlib.session import MelleaSession
    from mellea.stdlib.streaming import partial_objects

    loopback.configure(token_delay=0.005)
    loopback.enqueue(Reply(chunks=[TEXT[i : i + 9] for i in range(0, len(TEXT), 9)]))
    m = MelleaSession(OllamaModelBackend("m", base_url=loopback.url), SimpleContext())
    mot = await m.ainstruct("A person.", format=Person, model_options={ModelOption.STREAM: True})
    async for attempt in mot.aiter_attempts():  # type: ignore[attr-defined]
        names = [p.name async for p in partial_objects(attempt, Person)]
        break
    assert len(names) > 5 and names[-1] == PERSON.name
    assert PERSON.name.startswith(names[1])
    await mot.avalue()
    assert mot.parsed_repr == PERSON
    await m.backend.aclose()
