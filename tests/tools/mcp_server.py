"""A small MCP server for the tests, written with the official SDK (FastMCP).

python -m tests.tools.mcp_server stdio
python -m tests.tools.mcp_server streamable-http PORT
python -m tests.tools.mcp_server sse PORT
"""

from __future__ import annotations

import os
import sys

from mcp.server.fastmcp import FastMCP


def build(port: int = 0) -> FastMCP:
    server = FastMCP("mellea-test", host="127.0.0.1", port=port, log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def reverse(text: str) -> str:
        """Reverse a string."""
        return text[::-1]

    @server.tool()
    def fail(message: str) -> str:
        """Always fails with the given message."""
        raise ValueError(message)

    @server.tool()
    def whoami() -> str:
        """The server's process id (to check it is gone after the call)."""
        return str(os.getpid())

    return server


if __name__ == "__main__":
    transport = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    build(port).run(transport=transport)  # type: ignore[arg-type]
