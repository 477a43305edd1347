"""The incremental JSON parser: any split of a document parses to `json.loads`'s value,
every intermediate value is a prefix of the final one, and bad JSON fails where it is bad."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mellea.stdlib.streaming import IncrementalJSONParser, PartialJSONError


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.25:
        keys = ("".join(rng.choice('ab"\\é😀\n') for _ in range(rng.randint(0, 4))) for _ in "xyz")
        return {k: random_value(rng, depth + 1) for k in keys}
    if depth < 4 and roll < 0.45:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    roll = rng.random()
    if roll < 0.35:
        return "".join(
            rng.choice('xy "\\/\b\t\u00e9\U0001f600\u2028') for _ in range(rng.randint(0, 9))
        )
    if roll < 0.55:
        return rng.randint(-(10**9), 10**9)
    if roll < 0.75:
        return rng.uniform(-1e6, 1e6) * rng.choice([1, 1e-12, 1e30])
    return rng.choice([True, False, None])


def is_prefix(partial: Any, final: Any) -> bool:
    """`partial` could grow into `final` (strings/lists/dicts as far as they went)."""
    if isinstance(final, dict):
        return isinstance(partial, dict) and all(
            k in final and is_prefix(v, final[k]) for k, v in partial.items()
        )
    if isinstance(final, list):
        return (
            isinstance(partial, list)
            and len(partial) <= len(final)
            and all(is_prefix(p, f) for p, f in zip(partial, final, strict=False))
        )
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    return partial == final  # numbers and literals appear only once complete


def feed_in_pieces(text: str, rng: random.Random) -> tuple[IncrementalJSONParser, list[Any]]:
    parser, snapshots, pos = IncrementalJSONParser(), [], 0
    while pos < len(text):
        step = rng.randint(1, 9)
        parser.feed(text[pos : pos + step])
        snapshots.append(json.loads(json.dumps(parser.value)) if parser.started else None)
        pos += step
    return parser, snapshots


@pytest.mark.parametrize("seed", range(4))
def test_any_split_parses_like_json_loads_and_grows_by_prefixes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        value = random_value(rng)
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
        parser, snapshots = feed_in_pieces(text, rng)
        final = parser.close()
        assert json.dumps(final) == json.dumps(value)
        for snapshot in snapshots:
            if snapshot is not None:
                assert is_prefix(snapshot, final), (text, snapshot)


@pytest.mark.parametrize(
    "text", ['"caf\\u00e9 \\ud83d\\ude00 \\"q\\" a\\\\b\\n"', '{"k\\u00e9y": ["\\ud83d\\ude00"]}']
)
def test_escapes_split_at_every_position(text: str) -> None:
    expected = json.loads(text)
    for cut in range(1, len(text)):
        for cut2 in range(cut + 1, len(text)):
            parser = IncrementalJSONParser()
            parser.feed(text[:cut])
            parser.feed(text[cut:cut2])
            parser.feed(text[cut2:])
            assert parser.close() == expected, (cut, cut2)


def test_a_string_shows_as_far_as_it_went_but_never_half_an_escape() -> None:
    parser = IncrementalJSONParser()
    parser.feed('{"note": "ab\\')
    assert parser.value == {"note": "ab"}
    parser.feed("u00")
    assert parser.value == {"note": "ab"}
    parser.feed("e9\\ud83d")  # a high surrogate waits for its low half
    assert parser.value == {"note": "abé"}
    parser.feed("\\ude00 x")
    assert parser.value == {"note": "abé😀 x"}


def test_numbers_and_literals_appear_once_complete() -> None:
    parser = IncrementalJSONParser()
    parser.feed('{"age": 14')
    assert parser.value == {}
    parser.feed("9")
    assert parser.value == {}
    parser.feed(", ")  # the comma shows the number ended
    assert parser.value == {"age": 149}
    parser.feed('"ok": tr')
    assert parser.value == {"age": 149}
    parser.feed("ue}")
    assert parser.value == {"age": 149, "ok": True} and parser.complete


def test_containers_are_updated_in_place() -> None:
    parser = IncrementalJSONParser()
    parser.feed('{"items": [{"a": 1}, ')
    root = parser.value
    items = root["items"]
    parser.feed('{"a": 2}]}')
    assert parser.value is root and root["items"] is items and items == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize(
    ("text", "bad_at"),
    [
        ('{"a": 1,}', 8),
        ("[1 2]", 3),
        ('{"a" 1}', 5),
        ("[1] x", 4),
        ('{"a": tru}', 6),
        ('{"a": 01}', 6),
        ('["\\q"]', 2),
        ('["\\u12x4"]', 2),
        ("[-]", 1),
    ],
)
def test_bad_json_fails_where_it_is_bad(text: str, bad_at: int) -> None:
    parser = IncrementalJSONParser()
    with pytest.raises(PartialJSONError, match=f"at char {bad_at}:"):
        for ch in text:  # one character at a time: it fails as soon as it can tell
            parser.feed(ch)
        parser.close()


@pytest.mark.parametrize("text", ['{"a": 1', '"abc', "[1, 2", "12.", "", "  "])
def test_an_unfinished_document_fails_at_close(text: str) -> None:
    parser = IncrementalJSONParser()
    parser.feed(text)
    with pytest.raises(PartialJSONError):
        parser.close()


def test_a_top_level_number_completes_at_close() -> None:
    parser = IncrementalJSONParser()
    parser.feed("12")
    parser.feed("5")
    assert not parser.complete
    assert parser.close() == 125
