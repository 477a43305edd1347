"""The `m` command: `m serve PROGRAM.py` and `m chat`.

```
m serve my_program.py [--host 127.0.0.1] [--port 8000]   # an OpenAI-compatible endpoint
m chat [--backend local] [--model ID]                     # chat in the terminal
```
(`python -m mellea "prompt"` asks one question.) `m serve` needs the `serve` extra
(`pip install "mellea[serve]"`); `m chat` needs nothing beyond mellea.
"""

from __future__ import annotations

import argparse
import sys

from . import chat, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="m", description="mellea's command line: serve a program, or chat with a model."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve.add_parser(commands)
    chat.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    code: int = args.run(args)
    return code


__all__ = ["main"]
