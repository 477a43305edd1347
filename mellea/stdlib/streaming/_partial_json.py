"""An incremental JSON parser: feed it text as it streams, read the value built so far.

`IncrementalJSONParser.feed(delta)` does work proportional to `delta` (plus the few
characters of a token left incomplete by the previous delta, and re-joining the one
string still open): it never re-reads the prefix. The value it builds is updated in
place — containers are created when they open and filled as their members complete:

- objects get a member once its key is complete and its value has begun;
- strings grow as their characters arrive (escapes, `\\uXXXX` and surrogate pairs are
  decoded once complete, wherever the delta boundaries fall);
- numbers, `true`, `false` and `null` appear only once complete (a number only when
  the character after it shows it ended);
- `close()` checks that the text was one complete JSON value.

What a container *is* is decided by a `Builder` (plain `dict`/`list` by default;
`_partial_model` builds typed pydantic instances the same incremental way).

Why not a library: `jiter`'s and pydantic-core's partial modes and `partial-json-parser`
re-parse the whole prefix on every call (quadratic over a stream); `ijson`'s push
parser is incremental but reports a string only once it is complete, so a partial
value could not show a string as far as it goes. `bench/streaming_bench.py` measures
them against this parser.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

__all__ = ["Builder", "IncrementalJSONParser", "PartialJSONError", "PlainBuilder"]


class PartialJSONError(ValueError):
    """The text is not (the beginning of) one JSON value."""


class Builder(Protocol):
    """How JSON values become Python objects at one place of the document."""

    def new_object(self) -> Any: ...
    def new_array(self) -> Any: ...
    def child(self, key: str | None) -> Builder:
        """The builder of an object member (`key`) or of an array item (None)."""
        ...

    def set_member(self, container: Any, key: str, value: Any) -> None: ...
    def set_item(self, container: Any, index: int, value: Any) -> None:
        """Set item `index` of an array: `index == len` appends, else replaces."""
        ...

    def finish_scalar(self, value: Any) -> Any:
        """A complete string, number, bool or null as it should be stored."""
        ...

    def finish_container(self, container: Any) -> Any:
        """A container whose closing bracket arrived; may return a converted value."""
        ...

    # Optional: `partial_strings = False` hides a string until it is complete (a date).


class PlainBuilder:
    """`dict`, `list` and the JSON scalars, as `json.loads` gives them."""

    def new_object(self) -> Any:
        return {}

    def new_array(self) -> Any:
        return []

    def child(self, key: str | None) -> Builder:
        return self

    def set_member(self, container: Any, key: str, value: Any) -> None:
        container[key] = value

    def set_item(self, container: Any, index: int, value: Any) -> None:
        if index == len(container):
            container.append(value)
        else:
            container[index] = value

    def finish_scalar(self, value: Any) -> Any:
        return value

    def finish_container(self, container: Any) -> Any:
        return container


PLAIN = PlainBuilder()

_WS = re.compile(r"[ \t\n\r]*")
_STRING_RUN = re.compile(r'[^"\\]+')
_NUMBER_CHARS = re.compile(r"[-+0-9.eE]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_AFTER_VALUE = frozenset((",", "}", "]", " ", "\t", "\n", "\r"))
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_LOW_PREFIX = re.compile(r"(\\(u([dD]([c-fC-F][0-9a-fA-F]{0,2})?)?)?)?")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}

# What a container expects next.
_KEY_OR_END, _KEY, _COLON, _VALUE, _COMMA_OR_END, _VALUE_OR_END = range(6)


class _Frame:
    __slots__ = ("builder", "child", "container", "is_object", "key", "length", "state")

    def __init__(self, builder: Builder, container: Any, is_object: bool) -> None:
        self.builder = builder
        self.container = container
        self.is_object = is_object
        self.state = _KEY_OR_END if is_object else _VALUE_OR_END
        self.key: str | None = None  # the member being read (objects)
        self.length = 0  # items so far (arrays)
        # The builder of the value being read: per member (objects), or of every item.
        self.child: Builder = builder if is_object else builder.child(None)


class IncrementalJSONParser:
    """Parse one JSON value from text that arrives in pieces (see the module docstring)."""

    def __init__(self, builder: Builder | None = None) -> None:
        self._root_builder: Builder = builder or PLAIN
        self._stack: list[_Frame] = []
        self._buf = ""  # text not consumed yet: an incomplete token, at most
        self._consumed = 0  # characters consumed before `_buf`
        self._value: Any = None
        self._has_value = False
        self._complete = False
        self._string: list[str] | None = None  # the open string's pieces
        self._string_is_key = False
        self._string_shown = False  # does the open string's slot show its text so far?
        self._changed = False

    @property
    def value(self) -> Any:
        """The value so far (None before anything arrived); containers update in place."""
        return self._value

    @property
    def started(self) -> bool:
        """True once the top-level value has begun."""
        return self._has_value

    @property
    def complete(self) -> bool:
        """True once the top-level value ended."""
        return self._complete

    def feed(self, delta: str) -> bool:
        """Parse `delta`; True if the value changed. Raises `PartialJSONError`."""
        self._changed = False
        buf = self._buf + delta if self._buf else delta
        pos = self._run(buf, 0, final=False)
        self._consumed += pos
        self._buf = buf[pos:]
        if self._string is not None and not self._string_is_key and self._string_shown:
            if len(self._string) > 1:
                self._string[:] = ["".join(self._string)]
            self._put(self._string[0] if self._string else "")
        return self._changed

    def close(self) -> Any:
        """End of input: the complete value. Raises `PartialJSONError` if it is not one."""
        pos = self._run(self._buf, 0, final=True)
        self._consumed += pos
        self._buf = self._buf[pos:]
        if not self._complete:
            raise PartialJSONError(f"the JSON text ended early (after {self._consumed} chars)")
        return self._value

    # ----- the scanner ------------------------------------------------------------

    def _fail(self, buf: str, pos: int, what: str) -> PartialJSONError:
        near = buf[pos : pos + 20]
        return PartialJSONError(f"{what} at char {self._consumed + pos}: {near!r}")

    def _run(self, buf: str, pos: int, *, final: bool) -> int:
        n = len(buf)
        while pos < n:
            if self._string is not None:
                pos = self._scan_string(buf, pos, final)
                if self._string is not None:
                    return pos  # needs more text
                continue
            pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]  # always matches
            if pos >= n:
                break
            c = buf[pos]
            if self._complete:
                raise self._fail(buf, pos, "text after the JSON value")
            frame = self._stack[-1] if self._stack else None
            state = frame.state if frame is not None else _VALUE
            if c == '"' and state in (_KEY_OR_END, _KEY):
                self._string, self._string_is_key = [], True
                pos += 1
            elif c == ":" and state == _COLON:
                assert frame is not None
                frame.state = _VALUE
                pos += 1
            elif c == "," and state == _COMMA_OR_END:
                assert frame is not None
                frame.state = _KEY if frame.is_object else _VALUE
                pos += 1
            elif c in "}]" and (
                state == _COMMA_OR_END or state == (_KEY_OR_END if c == "}" else _VALUE_OR_END)
            ):
                assert frame is not None
                if frame.is_object != (c == "}"):
                    raise self._fail(buf, pos, f"unexpected {c!r}")
                self._stack.pop()
                done = frame.builder.finish_container(frame.container)
                if done is not frame.container:
                    self._put(done)
                self._value_ended()
                pos += 1
            elif state in (_VALUE, _VALUE_OR_END):
                new_pos = self._scan_value(buf, pos, c, final)
                if new_pos == pos:
                    return pos  # an incomplete number or literal: wait for more
                pos = new_pos
            else:
                raise self._fail(buf, pos, f"unexpected {c!r}")
        return pos

    def _scan_value(self, buf: str, pos: int, c: str, final: bool) -> int:
        builder = self._child_builder()
        if c == "{" or c == "[":
            is_object = c == "{"
            container = builder.new_object() if is_object else builder.new_array()
            self._put(container)
            self._stack.append(_Frame(builder, container, is_object))
            return pos + 1
        if c == '"':
            self._string, self._string_is_key = [], False
            self._string_shown = getattr(builder, "partial_strings", True)
            if self._string_shown:
                self._put("")
            return pos + 1
        if c in _LITERALS:
            word, literal = _LITERALS[c]
            end = pos + len(word)
            if buf.startswith(word, pos):
                self._complete_scalar(builder.finish_scalar(literal))
                return end
            if not final and len(buf) < end and word.startswith(buf[pos:]):
                return pos
            raise self._fail(buf, pos, "invalid literal")
        number = _NUMBER.match(buf, pos)
        end = number.end() if number is not None else pos
        if (
            number is None
            or (end < len(buf) and buf[end] not in _AFTER_VALUE)
            or (end == len(buf) and not final)
        ):
            if not final and _NUMBER_CHARS.fullmatch(buf, pos) is not None:
                return pos  # the number may go on in the next delta
            raise self._fail(buf, pos, "invalid number" if c in "-0123456789" else "unexpected")
        assert number is not None
        text = number.group()
        parsed: int | float = float(text) if number.group(1) or number.group(2) else int(text)
        self._complete_scalar(builder.finish_scalar(parsed))
        return end

    def _scan_string(self, buf: str, pos: int, final: bool) -> int:
        pieces = self._string
        assert pieces is not None
        n = len(buf)
        while pos < n:
            run = _STRING_RUN.match(buf, pos)
            if run is not None:
                pieces.append(run.group())
                self._changed = True
                pos = run.end()
                continue
            if buf[pos] == '"':
                self._string = None
                text = "".join(pieces)
                if self._string_is_key:
                    frame = self._stack[-1]
                    frame.key, frame.state = text, _COLON
                    frame.child = frame.builder.child(text)
                else:
                    self._complete_scalar(self._child_builder().finish_scalar(text))
                return pos + 1
            # A backslash: decode the escape once all of it is here.
            if pos + 1 >= n:
                break
            kind = buf[pos + 1]
            if kind != "u":
                char = _ESCAPES.get(kind)
                if char is None:
                    raise self._fail(buf, pos, "invalid escape")
                pieces.append(char)
                self._changed = True
                pos += 2
                continue
            if pos + 6 > n:
                if _HEX4.match(buf[pos + 2 :].ljust(4, "0")) is None:
                    raise self._fail(buf, pos, "invalid \\u escape")
                break
            hex4 = buf[pos + 2 : pos + 6]
            if _HEX4.fullmatch(hex4) is None:
                raise self._fail(buf, pos, "invalid \\u escape")
            code = int(hex4, 16)
            if 0xD800 <= code < 0xDC00:  # a high surrogate: its low half may follow
                low = buf[pos + 6 : pos + 12]
                if len(low) < 6 and not final and _LOW_PREFIX.fullmatch(low):
                    break  # maybe the low half, cut by the delta boundary
                if len(low) == 6 and low[:2] == "\\u" and _HEX4.fullmatch(low[2:]):
                    low_code = int(low[2:], 16)
                    if 0xDC00 <= low_code < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)
                        pos += 6
            pieces.append(chr(code))
            self._changed = True
            pos += 6
        if final:
            raise self._fail(buf, pos, "unterminated string")
        return pos

    # ----- storing values -----------------------------------------------------------

    def _child_builder(self) -> Builder:
        return self._stack[-1].child if self._stack else self._root_builder

    def _put(self, value: Any) -> None:
        """Put `value` in the slot of the value being read (the top container's)."""
        self._changed = True
        if not self._stack:
            self._value, self._has_value = value, True
            return
        frame = self._stack[-1]
        if frame.is_object:
            assert frame.key is not None
            frame.builder.set_member(frame.container, frame.key, value)
        else:
            frame.builder.set_item(frame.container, frame.length, value)

    def _complete_scalar(self, value: Any) -> None:
        self._put(value)
        self._value_ended()

    def _value_ended(self) -> None:
        """The value being read is complete: the container moves past it."""
        if not self._stack:
            self._complete = True
            return
        frame = self._stack[-1]
        frame.state = _COMMA_OR_END
        if frame.is_object:
            frame.key = None
        else:
            frame.length += 1
