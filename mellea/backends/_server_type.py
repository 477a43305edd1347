"""What kind of server an OpenAI-compatible `base_url` points at.

`_server_type` classifies by host name only (no I/O). `is_vllm_server_with_structured_output`
asks the server's `/version` (blocking, 5 s at most), refusing link-local hosts (cloud
metadata endpoints) and redirects, since `base_url` may come from configuration.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$")
STRUCTURED_OUTPUTS_SINCE = (0, 12, 0)
"""vLLM moved `guided_json` to `structured_outputs` in 0.12.0."""


class _ServerType(enum.Enum):
    """Kinds of server a backend may adapt to."""

    UNKNOWN = 0
    LOCALHOST = 1
    OPENAI = 2
    REMOTE_VLLM = 3


def _server_type(url: str) -> _ServerType:
    """The kind of server `url` names, by its host (no request is made)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return _ServerType.UNKNOWN
    if host is None:
        return _ServerType.UNKNOWN
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return _ServerType.LOCALHOST
    if host == "api.openai.com":
        return _ServerType.OPENAI
    return _ServerType.UNKNOWN


def _is_link_local(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the request fails on its own
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        try:
            if ipaddress.ip_address(address).is_link_local:
                return True
        except ValueError:
            continue
    return False


def _at_least(version: str, minimum: tuple[int, int, int]) -> bool:
    """PEP 440-ish: `0.12.0rc1` < `0.12.0` <= `0.12.0.post1` < `0.12.1.dev3`."""
    match = _VERSION.match(version.strip())
    if match is None:
        return False
    numbers = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    if numbers != minimum:
        return numbers > minimum
    suffix = match.group(4).lstrip(".-_").lower()
    return not suffix or suffix.startswith(("post", "+"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect could lead to a host the link-local check never saw


def is_vllm_server_with_structured_output(base_url: str, headers: Mapping[str, Any]) -> bool:
    """True if `base_url` is a vLLM server of version 0.12.0 or later (False on any doubt).

    Asks `<base_url without /v1>/version` with `headers`; any failure means False.
    """
    try:
        host = urlsplit(base_url).hostname
    except ValueError:
        return False
    if host is None or _is_link_local(host):
        return False
    root = base_url.rstrip("/").removesuffix("/v1")
    request = urllib.request.Request(
        root + "/version", headers={str(k): str(v) for k, v in headers.items()}
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            if response.status != 200:
                return False
            version = json.loads(response.read()).get("version")
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return False
    return isinstance(version, str) and _at_least(version, STRUCTURED_OUTPUTS_SINCE)


__all__ = ["_ServerType", "_server_type", "is_vllm_server_with_structured_output"]
