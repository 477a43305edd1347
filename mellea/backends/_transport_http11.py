"""HTTP/1.1 wire format for :mod:`mellea.backends._transport`: pure functions, no I/O.

Request heads are serialised here and response heads and chunk-size lines are parsed
here. The functions raise :class:`ParseError` for malformed input; the caller turns that
into ``httpx.RemoteProtocolError`` with the request attached. The parser is deliberately
lenient where real servers are sloppy (bare-LF line endings, whitespace around chunk
sizes, obsolete line folding) and strict where sloppiness would make the message
boundaries ambiguous (Content-Length values, chunk sizes, the status line).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHUNKED",
    "LENGTH",
    "MAX_HEAD_BYTES",
    "MAX_LINE_BYTES",
    "NO_BODY",
    "UNTIL_CLOSE",
    "ChunkedDecoder",
    "ParseError",
    "RequestHead",
    "ResponseHead",
    "build_request_head",
    "find_head_end",
    "parse_chunk_size",
    "parse_response_head",
]

# Response body framing modes (RFC 9112 section 6.3).
NO_BODY: Final = 0
LENGTH: Final = 1
CHUNKED: Final = 2
UNTIL_CLOSE: Final = 3

#: A response head larger than this is treated as a protocol error instead of buffering
#: without bound (httpcore/h11 use the same order of magnitude).
MAX_HEAD_BYTES: Final = 64 * 1024
#: Upper bound for one chunk-size line (size + extensions) or one trailer line.
MAX_LINE_BYTES: Final = 8 * 1024

_HEX: Final = b"0123456789abcdefABCDEF"
_WS: Final = frozenset(b" \t")  # header-name edge bytes that signal folding / bad syntax
_LENGTH_DEFAULT_METHODS: Final = frozenset({b"POST", b"PUT", b"PATCH"})

Headers = list[tuple[bytes, bytes]]


class ParseError(ValueError):
    """The peer sent something that is not valid HTTP/1.x."""


class RequestHead:
    """A serialised request head plus the framing decisions taken while building it."""

    __slots__ = ("chunked", "data", "keep_alive")

    def __init__(self, data: bytes, chunked: bool, keep_alive: bool) -> None:
        self.data = data
        self.chunked = chunked  # the body must be sent with chunked transfer-coding
        self.keep_alive = keep_alive  # False when the request itself said Connection: close


class ResponseHead:
    """A parsed response head and the body framing it implies."""

    __slots__ = ("headers", "keep_alive", "length", "mode", "reason", "status", "version")

    def __init__(
        self,
        version: bytes,
        status: int,
        reason: bytes,
        headers: Headers,
        mode: int,
        length: int,
        keep_alive: bool,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.mode = mode
        self.length = length  # only meaningful for LENGTH
        self.keep_alive = keep_alive


def build_request_head(
    method: bytes,
    target: bytes,
    headers: Headers,
    netloc: bytes,
    body_length: int | None,
) -> RequestHead:
    """Serialise a request line and headers.

    ``body_length`` is the size of an in-memory body, or None for a streaming body of
    unknown size. httpx normally supplies Host and the framing headers itself; they are
    only added here when missing so hand-built requests still produce valid HTTP/1.1.
    """
    has_host = has_length = chunked = False
    keep_alive = True
    for name, value in headers:
        # Only four header names matter for framing; filter on length before paying
        # for .lower() on every header.
        n = len(name)
        if n == 4:
            has_host = has_host or name.lower() == b"host"
        elif n == 14:
            has_length = has_length or name.lower() == b"content-length"
        elif n == 17:
            if name.lower() == b"transfer-encoding":
                chunked = value.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
                has_length = True
        elif n == 10 and name.lower() == b"connection":
            keep_alive = b"close" not in value.lower()
    lines = [b": ".join(kv) for kv in headers]
    if not has_host:
        lines.insert(0, b"Host: " + netloc)
    if not has_length:
        if body_length is None:
            lines.append(b"Transfer-Encoding: chunked")
            chunked = True
        elif body_length or method in _LENGTH_DEFAULT_METHODS:
            lines.append(b"Content-Length: %d" % body_length)
    lines.append(b"\r\n")  # blank line after the CRLF that join() puts before it
    data = b"%b %b HTTP/1.1\r\n%b" % (method, target, b"\r\n".join(lines))
    # Header injection guard: every CR/LF must be one we put there. Two C-level scans
    # of a short buffer are cheaper than validating each header value separately.
    n_lines = len(lines) + 1
    if data.count(b"\n") != n_lines or data.count(b"\r") != n_lines:
        raise ValueError("CR or LF in request method, target or header")
    return RequestHead(data, chunked, keep_alive)


def find_head_end(buf: bytearray, start: int) -> int:
    """Index just past the blank line that ends a head in ``buf``, or -1.

    ``start`` lets the caller skip bytes already scanned on an earlier call. Bare-LF
    heads (``\\n\\n``) are accepted as h11 does.
    """
    i = buf.find(b"\n\r\n", start)
    j = buf.find(b"\n\n", start)
    if i < 0:
        return -1 if j < 0 else j + 2
    if 0 <= j < i:
        return j + 2
    return i + 3


def parse_response_head(head: bytes, method: bytes) -> ResponseHead:
    """Parse a complete response head (status line + headers + blank line)."""
    lines = head.split(b"\r\n")
    if head.count(b"\n") != len(lines) - 1:  # some line ends in a bare LF
        lines = [line[:-1] if line[-1:] == b"\r" else line for line in head.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()  # the blank line(s) that end the head
    if not lines:
        raise ParseError("empty response head")

    status_line = lines[0]
    version = status_line[:8]
    code = status_line[9:12]
    if (
        (version != b"HTTP/1.1" and version != b"HTTP/1.0")
        or status_line[8:9] != b" "
        or len(code) != 3
        or not code.isdigit()
        or status_line[12:13] not in (b" ", b"")
    ):
        raise ParseError(f"malformed status line {status_line[:100]!r}")
    status = int(code)
    reason = status_line[13:]

    headers: Headers = []
    content_length: int | None = None
    te: bytes | None = None
    connection = b""
    for i in range(1, len(lines)):
        line = lines[i]
        name, sep, value = line.partition(b":")
        if not sep or not name or name[-1] in _WS or name[0] in _WS:
            if line and line[0] in _WS and headers:
                # Obsolete line folding (RFC 9112 5.2): continues the previous value.
                name, value = headers[-1]
                headers[-1] = (name, value + b" " + line.strip(b" \t"))
                continue
            raise ParseError(f"malformed header line {line[:100]!r}")
        value = value.strip(b" \t")
        headers.append((name, value))
        # Only three header names matter for framing; filter on length before paying
        # for .lower() on every header.
        n = len(name)
        if n == 14:
            if name.lower() == b"content-length":
                if value.isdigit() and len(value) < 19 and content_length is None:
                    content_length = int(value)
                else:
                    content_length = _parse_content_length(value, content_length)
        elif n == 17:
            if name.lower() == b"transfer-encoding":
                te = value if te is None else te + b", " + value
        elif n == 10 and name.lower() == b"connection":
            connection = connection + b"," + value.lower() if connection else value.lower()

    if version == b"HTTP/1.1":
        keep_alive = not connection or b"close" not in connection
    else:
        keep_alive = b"keep-alive" in connection

    length = 0
    if status < 200 or status == 204 or status == 304 or method == b"HEAD":
        mode = NO_BODY
    elif te is not None:
        # Transfer-Encoding wins over Content-Length (RFC 9112 6.3). A coding list that
        # does not end in chunked can only be delimited by closing the connection.
        if te.rsplit(b",", 1)[-1].strip().lower() == b"chunked":
            mode = CHUNKED
        else:
            mode = UNTIL_CLOSE
            keep_alive = False
    elif content_length is not None:
        mode = LENGTH if content_length else NO_BODY
        length = content_length
    else:
        mode = UNTIL_CLOSE
        keep_alive = False
    return ResponseHead(version, status, reason, headers, mode, length, keep_alive)


def _parse_content_length(value: bytes, previous: int | None) -> int:
    # A list of identical values ("5, 5") is allowed by RFC 9110 8.6; anything else
    # would let two parsers disagree on where the body ends.
    values = {v.strip() for v in value.split(b",")}
    if len(values) != 1:
        raise ParseError(f"conflicting Content-Length {value[:100]!r}")
    text = values.pop()
    if not text.isdigit() or len(text) > 18:
        raise ParseError(f"malformed Content-Length {value[:100]!r}")
    length = int(text)
    if previous is not None and previous != length:
        raise ParseError("conflicting Content-Length headers")
    return length


def parse_chunk_size(line: bytes | bytearray) -> int:
    """Parse one chunk-size line (without its LF); extensions are ignored."""
    semi = line.find(b";")
    if semi >= 0:
        line = line[:semi]
    line = line.strip(b" \t\r")
    # int(x, 16) alone would also accept "0x1f", "+5" or "1_0".
    if not line or len(line) > 16 or line.strip(_HEX):
        raise ParseError(f"malformed chunk size line {bytes(line[:100])!r}")
    return int(line, 16)


class ChunkedDecoder:
    """Incremental decoder for a chunked body (RFC 9112 7.1).

    ``decode(buf)`` consumes every complete piece of framing in ``buf`` and returns the
    chunk data found, joined: a burst of small SSE/NDJSON chunks costs one call, not one
    per chunk, and data of a partially received chunk is returned at once (streaming
    stays incremental). It walks the buffer with an index and trims it once at the end.
    Chunk extensions and trailer fields are read and discarded.
    """

    __slots__ = ("_error", "_left", "_state", "done")

    # States, as plain ints for the hot loop: 0 size line, 1 data, 2 CRLF after the
    # data, 3 trailer section.

    def __init__(self) -> None:
        self._state = 0
        self._left = 0  # bytes of the current chunk still to come
        self.done = False  # the terminating blank line was consumed
        self._error: ParseError | None = None  # deferred until decoded data is delivered

    def decode(self, buf: bytearray) -> bytes:
        if self._error is not None:
            raise self._error
        pieces: list[bytearray] = []
        try:
            self._decode(buf, pieces)
        except ParseError as exc:
            if not pieces:
                raise
            self._error = exc  # hand out the good data first, fail on the next call
        if not pieces:
            return b""
        return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)

    def _decode(self, buf: bytearray, pieces: list[bytearray]) -> None:
        pos = 0
        end = len(buf)
        state = self._state
        left = self._left
        while pos < end:
            if state == 1:
                avail = end - pos
                if avail < left:
                    pieces.append(buf[pos:end])
                    left -= avail
                    pos = end
                    break
                pieces.append(buf[pos : pos + left])
                pos += left
                left = 0
                state = 2
            elif state == 2:
                if buf[pos] == 10:
                    pos += 1
                elif buf[pos] == 13 and pos + 1 < end and buf[pos + 1] == 10:
                    pos += 2
                elif buf[pos] == 13 and pos + 1 == end:
                    break  # the LF is still in flight
                else:
                    raise ParseError("missing CRLF after chunk data")
                state = 0
            else:  # states 0 and 3 both need one complete line
                i = buf.find(b"\n", pos)
                if i < 0:
                    if end - pos > MAX_LINE_BYTES:
                        raise ParseError("chunk size or trailer line too long")
                    break
                line_end = i - 1 if i > pos and buf[i - 1] == 13 else i
                if state == 0:
                    line = buf[pos:line_end]
                    # Fast path: plain hex digits, the only thing real servers send.
                    if 0 < len(line) <= 16 and not line.strip(_HEX):
                        left = int(line, 16)
                    else:
                        left = parse_chunk_size(line)
                    state = 1 if left else 3
                    pos = i + 1
                elif line_end == pos:  # blank line: end of the trailer section
                    pos = i + 1
                    self.done = True
                    break
                else:  # a trailer field: discarded
                    pos = i + 1
        del buf[:pos]
        self._state = state
        self._left = left
