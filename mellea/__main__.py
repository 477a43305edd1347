"""`python -m mellea "prompt"` — try a prompt from the command line.

python -m mellea "Write a haiku about rain."            # default backend
python -m mellea --stream --backend local "Tell a story."
python -m mellea --backend ollama --model llama3.2:3b "Hi"
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mellea", description=__doc__.splitlines()[0])
    parser.add_argument("prompt", help="what to ask the model")
    parser.add_argument(
        "--backend",
        choices=["ollama", "openai", "litellm", "local"],
        help="default: Ollama if reachable, else the embedded model",
    )
    parser.add_argument("--model", help="model id (backend-specific)")
    parser.add_argument("--base-url", help="server URL (ollama/openai)")
    parser.add_argument("--stream", action="store_true", help="print tokens as they arrive")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float)
    parser.add_argument("-v", "--verbose", action="store_true", help="log which backend is used")
    return parser.parse_args(argv)  # fmt: skip


async def _run(args: argparse.Namespace) -> int:
    import mellea
    from mellea.backends import ModelOption

    kwargs = {"base_url": args.base_url} if args.base_url else {}
    m = mellea.start_session(args.backend, args.model, **kwargs)
    options: dict[str, object] = {ModelOption.MAX_NEW_TOKENS: args.max_tokens}
    if args.temperature is not None:
        options[ModelOption.TEMPERATURE] = args.temperature
    if args.stream:
        options[ModelOption.STREAM] = True
    async with m:
        mot = await m.ainstruct(args.prompt, model_options=options, strategy=None)
        if args.stream:
            async with mot:
                async for delta in mot:
                    sys.stdout.write(delta)
                    sys.stdout.flush()
            sys.stdout.write("\n")
        else:
            print(await mot.avalue())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from mellea.core.errors import MelleaError

        if not isinstance(exc, MelleaError | ValueError | ImportError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
