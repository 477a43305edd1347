"""`MelleaSession`: a backend plus a context, and the methods users call.

Every `a*` method is the implementation (it returns as soon as the work is started); the
sync twin (`._session_sync`) runs it on mellea's I/O loop and waits. Methods are thin: the
work is in `mellea.stdlib.functional`. `start_session` builds one by backend name
(`mellea.stdlib.start_backend`).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, cast, overload

from ..core import hooks
from ..core.base import CBlock, Component
from ..core.context import Context, ContextT
from ..core.message import Document, Message, MessageRole
from ..core.requirement import Requirement, ValidationResult
from ..core.sampling import SamplingResult
from ..core.thunk import ModelOutputThunk
from ..helpers.portal import run_sync
from . import functional as mfuncs
from ._current import _current_session, get_session
from ._messages import chat_message, reply_message
from ._session_sync import SyncSessionMethods
from .context import SimpleContext
from .functional import UNSET
from .start_backend import start_session

if TYPE_CHECKING:
    from typing import Self

    from pydantic import BaseModel

    from ..core.backend import Backend

logger = logging.getLogger("mellea")

STALE_CONTEXT_WARNING = (
    "Not using a SimpleContext with asynchronous requests could cause unexpected results "
    "due to stale contexts. Ensure you await between requests."
)


def _drop_failed_turns(ctx: Context) -> Context:
    """Forget trailing turns whose generation failed or was cancelled (nothing to carry)."""
    while isinstance(ctx.node_data, ModelOutputThunk) and ctx.node_data.error is not None:
        action_node = ctx.previous_node
        before = action_node.previous_node if action_node is not None else None
        ctx = before if before is not None else ctx.reset_to_new()
    return ctx


P = ParamSpec("P")
R = TypeVar("R")


def _in_session(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """While plugins are registered, run the call in the session's hook scope (its
    payloads carry the session id, and the session's own plugins fire for it)."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not hooks.active:
            return await method(*args, **kwargs)
        session = cast("MelleaSession", args[0])
        if _current_hook_session() == session.id:
            return await method(*args, **kwargs)
        with hooks.scope("session", session.id, session_id=session.id):
            return await method(*args, **kwargs)

    return run


def _current_hook_session() -> str | None:
    scope = hooks.current_scope()
    return scope.session_id if scope is not None else None


def _end_session_plugins(session: MelleaSession, exception: BaseException | None) -> None:
    hooks.session.cleanup(session, exception)
    from ..plugins.manager import deregister_session_plugins

    deregister_session_plugins(session.id)


class MelleaSession(SyncSessionMethods):
    """A backend and a context, with `instruct`/`chat`/`act` and their async twins.

    `ctx` is the current history (assignable). Each call returns a context of the same
    type as the session holds; `allow_context_type_change=True` lets a call switch it.
    """

    def __init__(
        self,
        backend: Backend,
        ctx: Context | None = None,
        *,
        session_id: str | None = None,
        allow_context_type_change: bool = False,
    ) -> None:
        self.id = session_id if session_id is not None else str(uuid.uuid4())
        self.backend = backend
        self._ctx: Context = ctx if ctx is not None else SimpleContext()
        self.allow_context_type_change = allow_context_type_change
        self._options_stack: list[dict[str, Any]] = []
        self._warned_stale = False
        self._token: contextvars.Token[MelleaSession | None] | None = None

    # ----- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> Self:
        self._token = _current_session.set(self)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup(exception=e)
        self.close()

    async def __aenter__(self) -> Self:
        self._token = _current_session.set(self)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if hooks.active:
            await hooks.session.acleanup(self, e)
        self.cleanup(exception=e)
        await self.aclose()

    def cleanup(self, *, exception: BaseException | None = None) -> None:
        """End the session: it stops being the current session (`get_session()`).

        The backend stays open (other sessions may share it): close it with `close()` /
        `aclose()`, or use the session in a `with` block, which does both.
        """
        if hooks.active:  # session_cleanup, then this session's plugins are removed
            _end_session_plugins(self, exception)
        if self._token is not None:
            _current_session.reset(self._token)
            self._token = None
        if exception is not None:
            logger.debug("session %s ended by %s", self.id, type(exception).__name__)

    async def aclose(self) -> None:
        """Close the backend (connections, engine handles)."""
        await self.backend.aclose()

    def close(self) -> None:
        """Blocking `aclose()`."""
        run_sync(self.aclose())

    # ----- context and options -------------------------------------------------------

    @property
    def ctx(self) -> Context:
        """The session's history; each call replaces it with the context it returns."""
        return self._ctx

    @ctx.setter
    def ctx(self, value: Context) -> None:
        # (the type test first: isinstance against an ABC is a Python-level call)
        if type(value) is not type(self._ctx) and not isinstance(value, Context):
            raise TypeError(f"a session's ctx must be a Context, got {type(value).__name__}")
        self._ctx = value

    def reset(self) -> None:
        """Clear the history, keeping the backend, the context's settings and the options."""
        previous, self.ctx = self.ctx, self.ctx.reset_to_new()
        if hooks.active:
            hooks.session.reset(self, previous)

    def clone(self) -> MelleaSession:
        """A session on the same backend starting from this session's current history."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin._options_stack = [dict(o) for o in self._options_stack]
        twin._token = None
        return twin

    def last_prompt(self) -> list[dict[str, Any]] | None:
        """The messages sent for the most recent generation in this context, if any."""
        last = self.ctx.last_output()
        return None if last is None else last._prompt

    @classmethod
    def powerup(cls, powerup_cls: type) -> None:
        """Add the functions defined on `powerup_cls` to this session class as methods.

        A name the class already has is refused (`ValueError`): a power-up extends the
        session, it never replaces one of its methods.
        """
        functions = inspect.getmembers(powerup_cls, predicate=inspect.isfunction)
        clashes = [name for name, _ in functions if hasattr(cls, name)]
        if clashes:
            raise ValueError(f"{cls.__name__} already has {', '.join(sorted(clashes))}")
        for name, fn in functions:
            setattr(cls, name, fn)

    def push_model_options(self, model_options: Mapping[str, Any]) -> None:
        """Apply `model_options` to every call until the matching `pop_model_options()`."""
        self._options_stack.append(dict(model_options))

    def pop_model_options(self) -> dict[str, Any]:
        """Undo the last `push_model_options()`."""
        if not self._options_stack:
            raise IndexError("pop_model_options() without a matching push_model_options()")
        return self._options_stack.pop()

    def _options(self, per_call: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not self._options_stack:
            return dict(per_call) if per_call else None
        merged: dict[str, Any] = {}
        for layer in self._options_stack:
            merged.update(layer)
        merged.update(per_call or {})
        return merged

    def _context_for_call(self) -> Context:
        ctx = _drop_failed_turns(self.ctx)
        if not isinstance(ctx, SimpleContext) and not self._warned_stale:
            last = ctx.last_output()
            if last is not None and not last.is_computed():
                # Requests on a history-carrying context overlap. They stay correct (each
                # turn waits for the previous reply), but say so once, as documented.
                self._warned_stale = True
                logger.warning(STALE_CONTEXT_WARNING)
        return ctx

    # ----- async API -------------------------------------------------------------------

    # `return_sampling_results=True` returns the SamplingResult instead of the thunk.
    @overload
    async def aact(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> ModelOutputThunk[Any]: ...  # fmt: skip
    @overload
    async def aact(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> SamplingResult: ...  # fmt: skip
    @overload
    async def aact(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> ModelOutputThunk[Any] | SamplingResult: ...  # fmt: skip
    @_in_session
    async def aact(
        self,
        action: Component[Any] | CBlock,
        *,
        requirements: Sequence[Requirement | str] | None = None,
        strategy: Any = UNSET,
        return_sampling_results: bool = False,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
        await_result: bool = False,
    ) -> ModelOutputThunk[Any] | SamplingResult:
        """Run any component; returns its thunk at once (computed if `await_result`).

        With requirements or `format=`, a sampling strategy runs behind the thunk (see
        `mellea.stdlib.sampling`); `return_sampling_results=True` awaits it and returns
        the `SamplingResult`.
        """
        ctx = self._context_for_call()
        result, self.ctx = await mfuncs.aact(
            action, ctx, self.backend, requirements=requirements, strategy=strategy,
            return_sampling_results=return_sampling_results, format=format,
            model_options=self._options(model_options), tool_calls=tool_calls,
            allow_context_type_change=self.allow_context_type_change, await_result=await_result,
        )  # fmt: skip
        return result

    @overload
    async def ainstruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> ModelOutputThunk[Any]: ...  # fmt: skip
    @overload
    async def ainstruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> SamplingResult: ...  # fmt: skip
    @overload
    async def ainstruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
        await_result: bool = ...,
    ) -> ModelOutputThunk[Any] | SamplingResult: ...  # fmt: skip
    @_in_session
    async def ainstruct(
        self,
        description: str,
        *,
        images: Sequence[Any] | None = None,
        audio: Sequence[Any] | None = None,
        requirements: Sequence[Requirement | str] | None = None,
        icl_examples: Sequence[str | CBlock] | None = None,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = None,
        user_variables: Mapping[str, Any] | None = None,
        prefix: str | CBlock | None = None,
        output_prefix: str | CBlock | None = None,
        strategy: Any = UNSET,
        return_sampling_results: bool = False,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
        await_result: bool = False,
    ) -> ModelOutputThunk[Any] | SamplingResult:
        """Ask the model to do something; returns the (uncomputed) thunk at once.

        Requirements are checked by the strategy (default
        `RejectionSamplingStrategy(loop_budget=2)`) in the background; the thunk resolves
        to the selected attempt and `thunk.sampling_result` tells whether it passed.
        """
        ctx = self._context_for_call()
        result, self.ctx = await mfuncs.ainstruct(
            description, ctx, self.backend, images=images, audio=audio,
            requirements=requirements, icl_examples=icl_examples,
            grounding_context=grounding_context, user_variables=user_variables, prefix=prefix,
            output_prefix=output_prefix, strategy=strategy,
            return_sampling_results=return_sampling_results, format=format,
            model_options=self._options(model_options), tool_calls=tool_calls,
            allow_context_type_change=self.allow_context_type_change, await_result=await_result,
        )  # fmt: skip
        return result

    @_in_session
    async def achat(
        self,
        content: str,
        role: MessageRole = "user",
        *,
        images: Sequence[Any] | None = None,
        audio: Sequence[Any] | None = None,
        documents: Iterable[str | Document] | None = None,
        user_variables: Mapping[str, Any] | None = None,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> Message:
        """Send a chat message and return the model's reply (`str(reply)` is its text).

        The turn enters the context before the reply is awaited, so overlapping calls on a
        `ChatContext` each see the earlier turns, in call order.
        """
        message = chat_message(
            content, role, images, user_variables, audio=audio, documents=documents
        )
        mot = await self.aact(
            message, strategy=None, format=format, model_options=model_options,
            tool_calls=tool_calls,
        )  # fmt: skip
        await mot.avalue()
        return reply_message(mot)

    @_in_session
    async def aquery(
        self,
        obj: Any,
        query: str,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
        await_result: bool = False,
    ) -> ModelOutputThunk[Any]:
        """Ask a question about an object (MObject, mified, or plain); returns the thunk."""
        ctx = self._context_for_call()
        mot, self.ctx = await mfuncs.aquery(
            obj, query, ctx, self.backend, format=format,
            model_options=self._options(model_options), tool_calls=tool_calls,
            allow_context_type_change=self.allow_context_type_change, await_result=await_result,
        )  # fmt: skip
        return mot

    @_in_session
    async def atransform(
        self,
        obj: Any,
        transformation: str,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Ask for a transformed object: the return value of the object's method the model
        called, else the (computed) thunk of its text answer."""
        ctx = self._context_for_call()
        result, self.ctx = await mfuncs.atransform(
            obj, transformation, ctx, self.backend, format=format,
            model_options=self._options(model_options),
            allow_context_type_change=self.allow_context_type_change,
        )  # fmt: skip
        return result

    @_in_session
    async def avalidate(
        self,
        reqs: Requirement | str | Sequence[Requirement | str],
        *,
        output: CBlock | str | None = None,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        generate_logs: list[Any] | None = None,
        input: Component[Any] | CBlock | None = None,
    ) -> list[ValidationResult]:
        """Check requirements on the last output (or `output`); concurrently, in order."""
        return await mfuncs.avalidate(
            reqs, self.ctx, self.backend, output=output, format=format,
            model_options=self._options(model_options), generate_logs=generate_logs,
            input=input,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"MelleaSession(backend={type(self.backend).__name__}({self.backend.model_id!r}), ctx={self.ctx!r})"


__all__ = [
    "STALE_CONTEXT_WARNING", "ContextT", "MelleaSession", "get_session", "start_session",
]  # fmt: skip
