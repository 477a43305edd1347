"""Tools from MCP servers, through the official `mcp` SDK (`pip install 'mellea[mcp]'`).

```python
from mellea.stdlib.tools.mcp import discover_mcp_tools, http_connection, stdio_connection

connection = http_connection("http://127.0.0.1:8000/mcp", api_key="...")
# or stdio_connection("python", args=["my_server.py"]) / sse_connection(url)
specs = await discover_mcp_tools(connection)
tools = [s.as_mellea_tool() for s in specs if s.name in {"search", "fetch"}]
m.instruct("...", model_options={ModelOption.TOOLS: tools}, tool_calls=True)
```
Each call opens a short-lived session (for stdio: starts the server process, which the
SDK stops when the session closes), so nothing needs closing. A tool result is the
text of its content blocks (binary blocks as a `[binary: mime]` note). A server-side
error (`isError`) raises `MCPToolError`, which `call_tools` hands back to the model as
an error message; a server that cannot be reached raises `MCPConnectionError`.
MCP tools are async: `acall_tools` awaits them; `tool.run(...)` blocks on mellea's I/O
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...backends.tools import MelleaTool
from ...core.errors import MelleaError

if TYPE_CHECKING:
    from mcp import ClientSession

_HINT = "MCP tools need the `mcp` package: pip install 'mellea[mcp]'"


class MCPConnectionError(MelleaError):
    """The MCP server could not be reached, or the session failed."""


class MCPToolError(MelleaError):
    """The MCP server reported an error for a tool call (its text is the message)."""


def http_connection(
    url: str,
    *,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
    connect_timeout: float = 30.0,
    read_timeout: float = 300.0,
) -> dict[str, Any]:
    """A Streamable HTTP connection (`api_key` becomes `Authorization: Bearer ...`)."""
    return {
        "transport": "streamable_http", "url": url, "headers": _headers(api_key, headers),
        "connect_timeout": connect_timeout, "read_timeout": read_timeout,
    }  # fmt: skip


def sse_connection(
    url: str,
    *,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
    connect_timeout: float = 30.0,
    read_timeout: float = 300.0,
) -> dict[str, Any]:
    """An HTTP + server-sent-events connection (the older MCP transport)."""
    return {
        "transport": "sse", "url": url, "headers": _headers(api_key, headers),
        "connect_timeout": connect_timeout, "read_timeout": read_timeout,
    }  # fmt: skip


def stdio_connection(
    command: str,
    *,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """A server started as a subprocess, spoken to over its stdin/stdout.

    `env` is the server's whole environment when given (the SDK otherwise passes a
    small default set — not your secrets); `timeout` bounds each session.
    """
    connection: dict[str, Any] = {"transport": "stdio", "command": command, "read_timeout": timeout}
    if args:
        connection["args"] = list(args)
    if env:
        connection["env"] = dict(env)
    return connection


def _headers(api_key: str | None, headers: dict[str, str] | None) -> dict[str, str]:
    merged = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    merged.update(headers or {})
    return merged


@contextlib.asynccontextmanager
async def _session(connection: dict[str, Any]) -> AsyncIterator[ClientSession]:
    try:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.sse import sse_client
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client
    except ImportError as exc:
        raise ImportError(_HINT) from exc
    transport = connection.get("transport", "streamable_http")
    connect = float(connection.get("connect_timeout", 30.0))
    read = float(connection.get("read_timeout", 300.0))
    async with contextlib.AsyncExitStack() as stack:
        if transport == "streamable_http":
            import httpx

            client = await stack.enter_async_context(
                create_mcp_http_client(
                    headers=connection.get("headers") or None,
                    timeout=httpx.Timeout(read, connect=connect),
                )
            )
            streams = await stack.enter_async_context(
                streamable_http_client(connection["url"], http_client=client)
            )
        elif transport == "sse":
            streams = await stack.enter_async_context(
                sse_client(
                    connection["url"],
                    headers=connection.get("headers") or None,
                    timeout=connect,
                    sse_read_timeout=read,
                )
            )
        elif transport == "stdio":
            params = StdioServerParameters(
                command=connection["command"], args=connection.get("args", []),
                env=connection.get("env"),
            )  # fmt: skip
            streams = await stack.enter_async_context(stdio_client(params))
        else:
            raise ValueError(f"unknown MCP transport {transport!r}")
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        async with asyncio.timeout(connect):
            await session.initialize()
        yield session


@contextlib.asynccontextmanager
async def _connected(connection: dict[str, Any]) -> AsyncIterator[ClientSession]:
    """A session, with transport failures turned into `MCPConnectionError`."""
    where = connection.get("url") or connection.get("command")
    try:
        async with asyncio.timeout(float(connection.get("read_timeout", 300.0))):
            async with _session(connection) as session:
                yield session
    except (MelleaError, ImportError, ValueError):
        raise
    except TimeoutError as exc:
        raise MCPConnectionError(f"the MCP server {where!r} did not answer in time") from exc
    except Exception as exc:  # the SDK raises transport errors in (nested) ExceptionGroups
        cause: BaseException = exc
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        if isinstance(cause, MelleaError):
            raise cause from None
        raise MCPConnectionError(f"MCP server {where!r}: {type(cause).__name__}: {cause}") from exc


class MCPToolSpec:
    """One tool a server offers: its name, description, input schema and connection.

    Rename it (`spec.name = ...`) or reword `description` before `as_mellea_tool()`;
    the server is still called by its own name.
    """

    def __init__(
        self, name: str, description: str, input_schema: dict[str, Any], connection: dict[str, Any]
    ) -> None:
        self.name = name
        self.description = description
        self.input_schema = input_schema
        self.connection = connection
        self._server_name = name

    def as_mellea_tool(self) -> MelleaTool[..., Any]:
        """A `MelleaTool` that calls this tool on the server (one session per call)."""
        schema = dict(self.input_schema or {"type": "object", "properties": {}})
        schema.setdefault("type", "object")
        return _MCPTool(
            self.name, _MCPCall(self.connection, self._server_name),
            description=self.description, parameters=schema,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"MCPToolSpec({self.name!r}, transport={self.connection.get('transport')!r})"


class _MCPCall:
    """The tool's function: call the server's tool and flatten the result to text."""

    def __init__(self, connection: dict[str, Any], name: str) -> None:
        self.connection = connection
        self.__name__ = name

    async def __call__(self, **kwargs: Any) -> str:
        from mcp import types

        arguments = {k: v for k, v in kwargs.items() if v is not None}  # servers want absent
        async with _connected(self.connection) as session:
            result = await session.call_tool(self.__name__, arguments=arguments)
            parts = []
            for block in result.content or []:
                if isinstance(block, types.TextContent):
                    parts.append(block.text)
                elif isinstance(block, types.EmbeddedResource) and isinstance(
                    block.resource, types.TextResourceContents
                ):
                    parts.append(block.resource.text)
                elif isinstance(block, types.ResourceLink):
                    parts.append(f"[resource: {block.uri}]")
                else:
                    parts.append(f"[binary: {getattr(block, 'mimeType', None) or 'unknown'}]")
        text = "\n".join(parts)
        if result.isError:
            raise MCPToolError(text or f"the MCP tool {self.__name__!r} failed")
        return text


class _MCPTool(MelleaTool[..., Any]):
    """An MCP tool: awaited by `acall_tools`; `run()` blocks on mellea's I/O loop."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        from ...helpers.portal import run_sync

        return run_sync(self.func(*args, **kwargs))


async def discover_mcp_tools(connection: dict[str, Any]) -> list[MCPToolSpec]:
    """The tools the server offers (every page of its `tools/list`)."""
    from mcp import types

    specs: list[MCPToolSpec] = []
    async with _connected(connection) as session:
        cursor: str | None = None
        while True:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            specs += [
                MCPToolSpec(t.name, t.description or "", dict(t.inputSchema or {}), connection)
                for t in page.tools
            ]
            cursor = page.nextCursor
            if not cursor:
                return specs


__all__ = [
    "MCPConnectionError",
    "MCPToolError",
    "MCPToolSpec",
    "discover_mcp_tools",
    "http_connection",
    "sse_connection",
    "stdio_connection",
]
