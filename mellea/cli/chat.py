"""`m chat`: an interactive chat in the terminal, streaming, with history.

The conversation lives in a `ChatContext`, so every turn sees the earlier ones. Commands:
`/reset` forgets the history, `/exit` (or Ctrl-D) leaves. Ctrl-C while an answer streams
stops that answer (the generation is cancelled, the request aborted) and the turn is
dropped from the history; Ctrl-C at the prompt leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..stdlib.session import MelleaSession

HELP = "commands: /reset forgets the conversation, /exit leaves; Ctrl-C stops an answer"


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "chat",
        help="chat with a model in the terminal",
        description="Chat with a model: streaming answers, history, /reset, Ctrl-C stops an answer.",
    )
    parser.add_argument(
        "--backend",
        choices=["ollama", "openai", "litellm", "local"],
        help="default: Ollama if reachable, else the embedded model",
    )
    parser.add_argument("--model", help="model id (backend-specific)")
    parser.add_argument("--base-url", help="server URL (ollama/openai)")
    parser.add_argument("--system", help="a system prompt for the whole conversation")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--temperature", type=float)
    parser.add_argument("-v", "--verbose", action="store_true", help="log which backend is used")
    parser.set_defaults(run=run)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from mellea.backends import ModelOption
    from mellea.core.errors import MelleaError
    from mellea.stdlib.context import ChatContext
    from mellea.stdlib.session import start_session

    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    kwargs = {"base_url": args.base_url} if args.base_url else {}
    try:
        session = start_session(args.backend, args.model, ctx=ChatContext(), **kwargs)
    except (MelleaError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    options: dict[str, Any] = {
        ModelOption.MAX_NEW_TOKENS: args.max_tokens,
        ModelOption.STREAM: True,
    }
    if args.temperature is not None:
        options[ModelOption.TEMPERATURE] = args.temperature
    if args.system:
        options[ModelOption.SYSTEM_PROMPT] = args.system
    print(f"m chat ({HELP})", file=sys.stderr)
    with asyncio.Runner() as runner:  # one event loop for the whole conversation
        try:
            _loop(runner, session, options, sys.stdout)
        finally:
            runner.run(session.aclose())
    return 0


def _loop(
    runner: asyncio.Runner, session: MelleaSession, options: dict[str, Any], out: TextIO
) -> None:
    from mellea.core.errors import MelleaError

    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            out.write("\n")
            return
        if not line:
            continue
        if line in ("/exit", "/quit"):
            return
        if line == "/reset":
            session.reset()
            out.write("(conversation cleared)\n")
            continue
        if line.startswith("/"):
            out.write(f"({HELP})\n")
            continue
        try:
            runner.run(_answer(session, line, options, out))
        except KeyboardInterrupt:  # asyncio.Runner cancelled the answer
            out.write("\n(stopped)\n")
        except MelleaError as exc:
            out.write(f"\n(error: {exc})\n")
        out.flush()


async def _answer(session: MelleaSession, text: str, options: dict[str, Any], out: TextIO) -> None:
    from mellea.stdlib.components import Message

    mot = await session.aact(Message("user", text), strategy=None, model_options=options)
    async with mot:  # leaving early (Ctrl-C) cancels the generation
        async for delta in mot:
            out.write(delta)
            out.flush()
    out.write("\n")


__all__ = ["add_parser", "run"]
