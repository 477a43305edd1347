"""Jinja2 rendering of `{{ variable }}` prompts, in Jinja's immutable sandbox.

A prompt template may carry text nobody trusted: a chat message that a program passes as
an instruction's description together with `user_variables`, a requirement written by a
client of `m serve`. Jinja templates are a programming language, and an unsandboxed one
reaches Python (`{{ cycler.__init__.__globals__.os.getcwd() }}`). So every template is
rendered by `jinja2.sandbox.ImmutableSandboxedEnvironment`:

- attributes starting with `_` (`__class__`, `__globals__`, ...), Python internals of
  functions and frames, and `str.format` tricks raise Jinja's `SecurityError`;
- methods that mutate lists, dicts and sets (`x.append(...)`) are refused;
- `range()` is capped by Jinja; `*` and `**` are capped here (`MAX_RESULT_CHARS`), so
  `{{ 'a' * 10**12 }}` or `{{ 9**9**9 }}` fail at once instead of eating memory or CPU.

Whatever the sandbox refuses becomes `InvalidOptionError` (a `ValueError`) naming what was
refused; a missing variable is the same error naming the variable. Variable *values* are
data, never templates: `{{ name }}` with `name="{{ 7*7 }}"` renders `{{ 7*7 }}`.
jinja2 is imported only when a template is rendered.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..core.errors import InvalidOptionError

if TYPE_CHECKING:
    import jinja2

MAX_RESULT_CHARS = 1_000_000
"""Largest string, list or number of digits a `*` or `**` inside a template may produce."""


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class PromptSandbox(ImmutableSandboxedEnvironment):
        # Operators the sandbox routes through `call_binop`; also keeps Jinja's compiler
        # from folding them into constants at compile time.
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_size(operator, left, right)
            return super().call_binop(context, operator, left, right)

    # StrictUndefined: a missing variable is an error, never a silently empty prompt.
    return PromptSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _check_size(operator: str, left: Any, right: Any) -> None:
    """Refuse a `*` or `**` whose result would exceed `MAX_RESULT_CHARS` (before computing it)."""
    sized = (str, bytes, list, tuple)
    size = 0.0
    if operator == "*" and isinstance(left, sized) and isinstance(right, int):
        size = len(left) * right
    elif operator == "*" and isinstance(right, sized) and isinstance(left, int):
        size = left * len(right)
    elif operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
        # digits of left ** right
        size = abs(right) * math.log10(abs(left)) if abs(left) > 1 else 0.0
    if size > MAX_RESULT_CHARS:
        from jinja2.exceptions import SecurityError

        raise SecurityError(f"'{operator}' would produce more than {MAX_RESULT_CHARS} items")


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def render(source: str, variables: dict[str, Any]) -> str:
    """Render `source` with `variables` in the sandbox (see the module docstring).

    Raises `InvalidOptionError` (a `ValueError`) for a missing variable, a syntax error,
    anything the sandbox refuses, or an expression that fails (`{{ 1/0 }}`).
    """
    import jinja2
    from jinja2.exceptions import SecurityError

    try:
        return _compile(source).render(**variables)
    except jinja2.UndefinedError as exc:
        raise InvalidOptionError(f"prompt template variable missing: {exc.message}") from None
    except SecurityError as exc:
        raise InvalidOptionError(f"prompt template refused by the sandbox: {exc}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidOptionError(f"prompt template syntax error: {exc.message}") from None
    except (ArithmeticError, TypeError, ValueError) as exc:  # {{ 1/0 }}, range() too big
        raise InvalidOptionError(f"prompt template failed: {type(exc).__name__}: {exc}") from None


__all__ = ["MAX_RESULT_CHARS", "render"]
