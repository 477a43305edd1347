"""Which kind of server an OpenAI-compatible URL points at (see `mellea.backends._server_type`)."""

from __future__ import annotations

from ..backends._server_type import (
    _server_type,
    _ServerType,
    is_vllm_server_with_structured_output,
)

__all__ = ["_ServerType", "_server_type", "is_vllm_server_with_structured_output"]
