"""Cassettes: every generation of a test, recorded to a JSON file and replayed offline.

A `Cassette` is a call layer (`mellea.backends._chat.CallLayer`) installed under every
chat backend of the process (`use_cassette`), so it sees each request after rendering —
sampling attempts, judges, tool-calling turns, `@generative` calls and each plain
completion of `generate_from_raw` alike — on every backend, the embedded engine
included. Recording, it passes the request on and keeps the answer; replaying, it
answers from the file and never reaches a server or a model.

The file is stable, reviewable text: JSON with sorted keys, one interaction (request and
response) per entry of `interactions`, in the order the requests were made. A request is
the engine's own description of it (`request_description`, or `raw_request_description`
for a plain completion) with credentials and transport details left out; a response
keeps its streamed chunks, usage, finish reasons and tool calls. HTTP error answers and
cancelled generations are kept too (and replayed as such); a request that got no answer
at all is not, and the file is then not written.

Replaying, requests match on their whole description. Identical requests take the
recorded interactions for it in order (the last one repeats). A request with no match
fails its thunk with `CassetteMissError`, whose message is a diff against the closest
recorded request; `misses` keeps them so the pytest plugin can fail the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ..backends._chat import AnyCall, ChatBackend, SendCall, set_process_layers
from ..backends.response_cache import CachedResponse, Capture
from ..backends.response_cache._key import canonical_json, describe_call, request_key
from ..core import errors
from ..core.errors import BackendError, BackendStatusError, CassetteMissError, MelleaError
from ..core.thunk import ModelOutputThunk

logger = logging.getLogger("mellea.testing")
FORMAT_VERSION = 1
Mode = Literal["record", "replay"]


class Cassette:
    """The interactions of one test, bound to a file.

    Args:
        path: The cassette file (JSON).
        mode: "record" sends requests and keeps them (`save()` writes the file);
            "replay" answers from the file (loaded now; a missing file replays nothing).
    """

    def __init__(self, path: str | os.PathLike[str], mode: Mode) -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"mode must be 'record' or 'replay', got {mode!r}")
        self.path = Path(path)
        self.mode: Mode = mode
        self.interactions: list[dict[str, Any]] = []
        self.misses: list[str] = []
        """The message of every request replay could not answer."""
        self.incomplete: list[str] = []
        """Recording: requests that got no answer (the file is then left as it was)."""
        self._slots: list[dict[str, Any] | None] = []  # recording: in request order
        self._by_key: dict[str, list[int]] = {}
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        if mode == "replay" and self.path.exists():
            self.interactions = load_interactions(self.path)
            for i, interaction in enumerate(self.interactions):
                self._by_key.setdefault(request_key(interaction["request"]), []).append(i)

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    # ----- the call layer -----------------------------------------------------------------

    async def handle(
        self, backend: ChatBackend, call: AnyCall, mot: ModelOutputThunk[Any], send: SendCall
    ) -> None:
        description = describe_call(backend, call)
        if self.mode == "replay":
            await self._replay(description, call, mot)
            return
        with self._lock:
            slot = len(self._slots)
            self._slots.append(None)
        capture = Capture()
        capture.subscribe(mot)
        try:
            await send(call, capture)
        except asyncio.CancelledError:
            self._keep(slot, description, capture, {"cancelled": True})
            raise
        except BackendStatusError as exc:  # the server's answer: replayed as such
            self._keep(slot, description, capture, {"error": _error_json(exc)})
            raise
        except MelleaError as exc:  # no answer (unreachable, timed out...): nothing to keep
            self.incomplete.append(f"{type(exc).__name__}: {exc}")
            raise
        capture.copy_outcome(mot)
        self._keep(slot, description, capture, {})

    def _keep(
        self, slot: int, request: dict[str, Any], capture: Capture, outcome: dict[str, Any]
    ) -> None:
        response = CachedResponse.of(capture).to_json(timing=False)
        response.pop("response_id", None)  # a fresh random id each recording: noise in diffs
        with self._lock:
            self._slots[slot] = {"request": request, "response": {**response, **outcome}}

    async def _replay(
        self, description: dict[str, Any], call: AnyCall, mot: ModelOutputThunk[Any]
    ) -> None:
        key = request_key(description)
        with self._lock:
            found = self._by_key.get(key)
            if found:
                n = self._used.get(key, 0)
                self._used[key] = n + 1
                interaction = self.interactions[found[min(n, len(found) - 1)]]
        if not found:
            message = self.miss_message(description)
            self.misses.append(message)
            raise CassetteMissError(message)
        data = interaction["response"]
        response = CachedResponse.from_json(data)
        await response.replay(mot, call.tools, None)
        if data.get("cancelled"):
            await asyncio.Event().wait()  # it never finished: wait, as it did, to be cancelled
        if data.get("error"):
            raise _error_from_json(data["error"])

    # ----- files and messages -------------------------------------------------------------

    def recorded(self) -> list[dict[str, Any]]:
        """The interactions recorded so far, in request order (unfinished ones left out)."""
        with self._lock:
            return [s for s in self._slots if s is not None]

    def save(self) -> Path:
        """Write the recorded interactions to `path` (atomically); returns it."""
        text = dumps_interactions(self.recorded())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)
        return self.path

    def miss_message(self, description: dict[str, Any]) -> str:
        """Why `description` cannot be replayed, with a diff against the closest request."""
        head = (
            f"this request is not in the cassette {self.path} (replaying; run pytest with "
            "--mellea-record to record it again)"
        )
        if not self.interactions:
            reason = "the file does not exist" if not self.path.exists() else "it is empty"
            return f"{head}: {reason}"
        wanted = canonical_json(description, indent=2).splitlines()
        best_i, best = 0, -1.0
        for i, interaction in enumerate(self.interactions):
            lines = canonical_json(interaction["request"], indent=2).splitlines()
            score = difflib.SequenceMatcher(None, lines, wanted, autojunk=False).ratio()
            if score > best:
                best_i, best = i, score
        closest = canonical_json(self.interactions[best_i]["request"], indent=2).splitlines()
        diff = difflib.unified_diff(
            closest, wanted, f"recorded (interaction {best_i})", "requested", lineterm="", n=2
        )
        return f"{head}. Closest recorded request, as a diff:\n" + "\n".join(diff)


def dumps_interactions(interactions: list[dict[str, Any]]) -> str:
    """The cassette file's text: sorted keys, two-space indent, one entry per interaction."""
    document = {"mellea_cassette": FORMAT_VERSION, "interactions": interactions}
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def load_interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of a cassette file (`ValueError` if it is not one)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        interactions = document["interactions"]
        if document.get("mellea_cassette") != FORMAT_VERSION or not isinstance(interactions, list):
            raise ValueError("unknown format version")
        for interaction in interactions:
            CachedResponse.from_json(interaction["response"])
            if not isinstance(interaction["request"], dict):
                raise ValueError("an interaction's request must be an object")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a mellea cassette: {exc}") from None
    return list(interactions)


@contextlib.contextmanager
def use_cassette(path: str | os.PathLike[str], mode: Mode) -> Iterator[Cassette]:
    """Record or replay every generation in this process (chat or plain) inside the block.

    Recording writes the file when the block exits if anything was recorded — and leaves
    it as it was if a request got no answer at all (server unreachable, timeout), so a
    recording run against a server that is down never replaces a good cassette.
    """
    cassette = Cassette(path, mode)
    previous = set_process_layers([cassette])
    try:
        yield cassette
    finally:
        set_process_layers(previous)
        if mode == "record" and cassette.incomplete:
            logger.warning(
                "cassette %s not written: %d request(s) got no answer (first: %s)",
                cassette.path, len(cassette.incomplete), cassette.incomplete[0],
            )  # fmt: skip
        elif mode == "record" and cassette.recorded():
            cassette.save()


def _error_json(exc: BackendStatusError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc), "status_code": exc.status_code}


def _error_from_json(data: dict[str, Any]) -> MelleaError:
    cls = getattr(errors, str(data.get("type")), None)
    message = str(data.get("message", ""))
    if not (isinstance(cls, type) and issubclass(cls, MelleaError)):
        return BackendError(message)
    if issubclass(cls, errors.BackendStatusError):
        return cls(message, status_code=int(data.get("status_code") or 500))
    try:
        return cls(message)
    except TypeError:
        return BackendError(message)


__all__ = [
    "FORMAT_VERSION",
    "Cassette",
    "dumps_interactions",
    "load_interactions",
    "use_cassette",
]
