"""The sync twins of `MelleaSession`'s methods: each runs its `a*` method on mellea's I/O
loop and waits (so they work from any thread, also inside a running event loop)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ..core.base import CBlock, Component
from ..core.message import Document, Message, MessageRole
from ..core.requirement import Requirement, ValidationResult
from ..core.sampling import SamplingResult
from ..core.thunk import ModelOutputThunk
from ..helpers.portal import run_sync
from .functional import UNSET

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .session import MelleaSession


class SyncSessionMethods:
    """`act`, `instruct`, `chat`, `query`, `transform`, `validate` (blocking)."""

    def _session(self) -> MelleaSession:
        """The session these methods belong to (this mixin is only used by it)."""
        return cast("MelleaSession", self)

    @overload
    def act(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> ModelOutputThunk[Any]: ...  # fmt: skip
    @overload
    def act(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> SamplingResult: ...  # fmt: skip
    @overload
    def act(
        self, action: Component[Any] | CBlock, *,
        requirements: Sequence[Requirement | str] | None = ..., strategy: Any = ...,
        return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> ModelOutputThunk[Any] | SamplingResult: ...  # fmt: skip
    def act(
        self,
        action: Component[Any] | CBlock,
        *,
        requirements: Sequence[Requirement | str] | None = None,
        strategy: Any = UNSET,
        return_sampling_results: bool = False,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> ModelOutputThunk[Any] | SamplingResult:
        """Blocking `aact`: the returned thunk is computed."""
        result: ModelOutputThunk[Any] | SamplingResult = run_sync(
            self._session().aact(
                action, requirements=requirements, strategy=strategy,
                return_sampling_results=return_sampling_results, format=format,
                model_options=model_options, tool_calls=tool_calls, await_result=True,
            )
        )  # fmt: skip
        return result

    @overload
    def instruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[False] = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> ModelOutputThunk[Any]: ...  # fmt: skip
    @overload
    def instruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: Literal[True], format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> SamplingResult: ...  # fmt: skip
    @overload
    def instruct(
        self, description: str, *, images: Sequence[Any] | None = ...,
        audio: Sequence[Any] | None = ..., requirements: Sequence[Requirement | str] | None = ...,
        icl_examples: Sequence[str | CBlock] | None = ...,
        grounding_context: Mapping[str, str | CBlock | Component[Any]] | None = ...,
        user_variables: Mapping[str, Any] | None = ..., prefix: str | CBlock | None = ...,
        output_prefix: str | CBlock | None = ..., strategy: Any = ...,
        return_sampling_results: bool = ..., format: type[BaseModel] | None = ...,
        model_options: Mapping[str, Any] | None = ..., tool_calls: bool = ...,
    ) -> ModelOutputThunk[Any] | SamplingResult: ...  # fmt: skip
    def instruct(
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
    ) -> ModelOutputThunk[Any] | SamplingResult:
        """Blocking `ainstruct`: the returned thunk is computed."""
        result: ModelOutputThunk[Any] | SamplingResult = run_sync(
            self._session().ainstruct(
                description, images=images, audio=audio, requirements=requirements,
                icl_examples=icl_examples, grounding_context=grounding_context,
                user_variables=user_variables, prefix=prefix, output_prefix=output_prefix,
                strategy=strategy, return_sampling_results=return_sampling_results,
                format=format, model_options=model_options, tool_calls=tool_calls,
                await_result=True,
            )
        )  # fmt: skip
        return result

    def chat(
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
        """Blocking `achat`."""
        return run_sync(
            self._session().achat(
                content, role, images=images, audio=audio, documents=documents,
                user_variables=user_variables, format=format, model_options=model_options,
                tool_calls=tool_calls,
            )
        )  # fmt: skip

    def query(
        self,
        obj: Any,
        query: str,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        tool_calls: bool = False,
    ) -> ModelOutputThunk[Any]:
        """Blocking `aquery`: the returned thunk is computed."""
        return run_sync(
            self._session().aquery(
                obj, query, format=format, model_options=model_options, tool_calls=tool_calls,
                await_result=True,
            )
        )  # fmt: skip

    def transform(
        self,
        obj: Any,
        transformation: str,
        *,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Blocking `atransform`."""
        return run_sync(
            self._session().atransform(
                obj, transformation, format=format, model_options=model_options
            )
        )

    def validate(
        self,
        reqs: Requirement | str | Sequence[Requirement | str],
        *,
        output: CBlock | str | None = None,
        format: type[BaseModel] | None = None,
        model_options: Mapping[str, Any] | None = None,
        generate_logs: list[Any] | None = None,
        input: Component[Any] | CBlock | None = None,
    ) -> list[ValidationResult]:
        """Blocking `avalidate`."""
        return run_sync(
            self._session().avalidate(
                reqs, output=output, format=format, model_options=model_options,
                generate_logs=generate_logs, input=input,
            )
        )  # fmt: skip


__all__ = ["SyncSessionMethods"]
