"""Compactors: strategies that shrink a `ChatContext`'s history into a smaller copy.

`compact(ctx, *, backend=None)` returns a new context holding only what the strategy keeps;
the input is never changed. Attached to a `ChatContext` (`ChatContext(compactor=...)`), a
compactor shapes what each generation is *sent*: the stored history stays whole, so
`ctx.as_list()` still shows every turn (the reference release rewrites the stored history on
every `add()` instead). Called directly (`ctx = compactor.compact(ctx)`, or through
`react(compactor=...)`) the returned context *is* the smaller history.

- `WindowCompactor(size=n)` keeps the last `n` body items;
- `ThresholdCompactor(inner, threshold=t)` runs `inner` only once the history is estimated
  to exceed `t` tokens;
- `LLMSummarizeCompactor(default_backend=b, keep_n=k)` replaces all but the last `k` body
  items with a model-written summary (one model call, then reused until `k` more items
  accumulate).

A *pin predicate* chooses a leading prefix that is never compacted (`pin_system`: leading
system messages; `pin_system_and_initial_user`: those plus the first user message;
`pin_nothing`). Only the body after the prefix counts against a size.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from ...core.context import Context, ContextItem
from ...core.errors import MelleaError
from ...core.message import Message
from ...core.thunk import ModelOutputThunk
from ._tokens import estimate_tokens

if TYPE_CHECKING:
    from ...core.backend import Backend
    from .chat import ChatContext

logger = logging.getLogger("mellea")

T = TypeVar("T", bound=Context)
"""The context type a compactor takes and returns."""

PinPredicate = Callable[[list[ContextItem]], int]
"""Given the whole history (oldest first), how many leading items are never compacted."""


def pin_nothing(components: list[ContextItem]) -> int:
    """Pin nothing: the whole history is body."""
    return 0


def pin_system(components: list[ContextItem]) -> int:
    """Pin the leading run of system messages (a later system message is body)."""
    n = 0
    for item in components:
        if not (isinstance(item, Message) and item.role == "system"):
            break
        n += 1
    return n


def pin_system_and_initial_user(components: list[ContextItem]) -> int:
    """Pin the leading system messages and the user message right after them (the goal)."""
    n = pin_system(components)
    if n < len(components):
        item = components[n]
        if isinstance(item, Message) and item.role == "user":
            n += 1
    return n


@runtime_checkable
class Compactor(Protocol[T]):
    """Anything with `compact(ctx, *, backend=None) -> ctx` (a smaller copy of `ctx`)."""

    def compact(self, ctx: T, *, backend: Backend | None = None) -> T:
        """A compacted copy of `ctx`; `ctx` itself is left unchanged."""
        ...


async def acompact(compactor: Compactor[T], ctx: T, *, backend: Backend | None = None) -> T:
    """Run `compactor` from async code: its `acompact` when it has one (model calls are
    awaited, never blocking the loop), else its `compact`."""
    method = getattr(compactor, "acompact", None)
    if method is not None:
        result: T = await method(ctx, backend=backend)
        return result
    return compactor.compact(ctx, backend=backend)


def rebuild(ctx: ChatContext, items: Sequence[ContextItem]) -> ChatContext:
    """A fresh context of `ctx`'s kind and settings holding exactly `items`."""
    new = ctx.new_instance()
    for item in items:
        new = new.add(item)
    return new


class InlineCompactor:
    """A compactor cheap enough to run on every generation (`ChatContext(compactor=...)`).

    Subclasses implement `compact`; `acompact` defaults to it.
    """

    def compact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        """A compacted copy of `ctx` (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compact()")

    async def acompact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        """`compact` for async callers (compactors that call a model override this)."""
        return self.compact(ctx, backend=backend)


class WindowCompactor(InlineCompactor):
    """Keep the pinned prefix plus the last `size` body items (`size=0`: the prefix only)."""

    def __init__(self, *, size: int, pin_predicate: PinPredicate = pin_system) -> None:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be an int >= 0, got {size!r}")
        self.size = size
        self.pin_predicate = pin_predicate

    def compact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        items = ctx.as_list()
        pin_end = self.pin_predicate(items)
        body = items[pin_end:]
        if len(body) <= self.size:
            return ctx
        kept = body[len(body) - self.size :] if self.size else []
        return rebuild(ctx, items[:pin_end] + kept)

    def __repr__(self) -> str:
        return f"WindowCompactor(size={self.size}, pin_predicate={self.pin_predicate.__name__})"


class ThresholdCompactor(InlineCompactor):
    """Run `inner` only once the history is estimated to exceed `threshold` tokens.

    The estimate is taken on the history itself (characters / 4 plus a few tokens per
    message), not on the last reply's reported usage: compaction here shapes what is sent,
    so the next request's usage would measure the compacted history and close the gate
    again. `threshold <= 0` disables the gate (`inner` never runs).
    """

    def __init__(self, inner: Compactor[ChatContext], *, threshold: int) -> None:
        if not hasattr(inner, "compact"):
            raise TypeError(f"inner must be a compactor, got {type(inner).__name__}")
        self.inner = inner
        self.threshold = threshold

    def _over(self, ctx: ChatContext) -> bool:
        return self.threshold > 0 and estimate_tokens(ctx.as_list()) > self.threshold

    def compact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        return self.inner.compact(ctx, backend=backend) if self._over(ctx) else ctx

    async def acompact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        return await acompact(self.inner, ctx, backend=backend) if self._over(ctx) else ctx

    def __repr__(self) -> str:
        return f"ThresholdCompactor({self.inner!r}, threshold={self.threshold})"


DEFAULT_SUMMARY_PROMPT = (
    "Summarize the conversation below in a few sentences. Keep every fact, name, number, "
    "decision and open question that a continuation would need.\n\n{conversation}"
)
SUMMARY_PREFIX = "Summary of the earlier conversation: "
_CACHE_SIZE = 8


def _transcript_line(item: ContextItem) -> str:
    from ...backends.formatter import component_text

    if isinstance(item, Message):
        extras = f" [{len(item.images)} image(s) attached]" if item.images else ""
        return f"{item.role}: {item.content}{extras}"
    if isinstance(item, ModelOutputThunk):
        if item.value is None and item.tool_calls:
            calls = ", ".join(f"{c.name}({c.args})" for c in item.tool_calls.values())
            return f"assistant: [tool calls: {calls}]"
        return f"assistant: {item.value or ''}"
    return f"user: {component_text(item)}"


class LLMSummarizeCompactor:
    """Replace all but the last `keep_n` body items with a model-written summary.

    The summary is a user `Message` ("Summary of the earlier conversation: ...") placed
    after the pinned prefix. It is reused while fewer than `keep_n` (at least one) new items
    have aged out since, then rewritten from the previous summary plus those items: one
    model call per `keep_n` turns, not per generation. If the model call fails (network,
    status, timeout) a warning is logged and the history is returned uncompacted;
    programming errors propagate.

    `prompt_template` must contain `{conversation}`; `model_options` apply to the summary
    call (e.g. a `ModelOption.MAX_NEW_TOKENS` budget).
    """

    def __init__(
        self,
        *,
        default_backend: Backend,
        keep_n: int = 5,
        pin_predicate: PinPredicate = pin_nothing,
        prompt_template: str | None = None,
        model_options: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(keep_n, int) or keep_n < 0:
            raise ValueError(f"keep_n must be an int >= 0, got {keep_n!r}")
        template = DEFAULT_SUMMARY_PROMPT if prompt_template is None else prompt_template
        if "{conversation}" not in template:
            raise ValueError("prompt_template must contain the {conversation} placeholder")
        self.default_backend = default_backend
        self.keep_n = keep_n
        self.pin_predicate = pin_predicate
        self.prompt_template = template
        self.model_options = dict(model_options or {})
        # summarised items (by identity) -> their summary; a few entries so cloned
        # sessions sharing one compactor do not evict each other.
        self._summaries: OrderedDict[tuple[int, ...], tuple[tuple[ContextItem, ...], Message]]
        self._summaries = OrderedDict()

    def compact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        """Blocking `acompact` (not callable from mellea's own I/O thread)."""
        from ...helpers.portal import run_sync

        return run_sync(self.acompact(ctx, backend=backend))

    async def acompact(self, ctx: ChatContext, *, backend: Backend | None = None) -> ChatContext:
        items = ctx.as_list()
        pin_end = self.pin_predicate(items)
        prefix, body = items[:pin_end], items[pin_end:]
        if len(body) <= self.keep_n:
            return ctx
        old = body[: len(body) - self.keep_n]
        recent = body[len(body) - self.keep_n :]
        covered, summary = self._best_cached(old)
        if summary is None or len(old) - covered >= max(self.keep_n, 1):
            try:
                summary = await self._summarize(summary, old[covered:], backend)
            except MelleaError as exc:
                logger.warning("context compaction skipped: the summary call failed: %s", exc)
                return ctx
            self._remember(old, summary)
            covered = len(old)
        return rebuild(ctx, [*prefix, summary, *old[covered:], *recent])

    def _best_cached(self, old: list[ContextItem]) -> tuple[int, Message | None]:
        """The longest cached summary of a prefix of `old`: (items it covers, summary)."""
        best: tuple[int, Message | None] = (0, None)
        best_key = None
        for key, (held, summary) in self._summaries.items():
            n = len(key)
            if best[0] < n <= len(old) and all(a is b for a, b in zip(held, old, strict=False)):
                best, best_key = (n, summary), key
        if best_key is not None:
            self._summaries.move_to_end(best_key)
        return best

    def _remember(self, old: list[ContextItem], summary: Message) -> None:
        self._summaries[tuple(id(i) for i in old)] = (tuple(old), summary)
        while len(self._summaries) > _CACHE_SIZE:
            self._summaries.popitem(last=False)

    async def _summarize(
        self, previous: Message | None, items: list[ContextItem], backend: Backend | None
    ) -> Message:
        from .simple import SimpleContext

        lines = [f"(earlier) {previous.content}"] if previous is not None else []
        lines.extend(_transcript_line(i) for i in items)
        prompt = Message("user", self.prompt_template.format(conversation="\n".join(lines)))
        engine = backend if backend is not None else self.default_backend
        mot, _ = await engine.generate_from_context(
            prompt, SimpleContext(), model_options=self.model_options
        )
        text = (await mot.avalue()).strip()
        return Message("user", SUMMARY_PREFIX + text)

    def __repr__(self) -> str:
        return f"LLMSummarizeCompactor(keep_n={self.keep_n})"


__all__ = [
    "DEFAULT_SUMMARY_PROMPT",
    "Compactor",
    "InlineCompactor",
    "LLMSummarizeCompactor",
    "PinPredicate",
    "T",
    "ThresholdCompactor",
    "WindowCompactor",
    "acompact",
    "pin_nothing",
    "pin_system",
    "pin_system_and_initial_user",
]
