"""Signatures with their annotations resolved (for `from __future__ import annotations`)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("mellea")


def resolve_signature_annotations(func: Callable[..., Any]) -> inspect.Signature:
    """`func`'s signature with string annotations evaluated wherever they can be.

    `inspect.signature(func, eval_str=True)` fails as a whole when one annotation cannot
    be evaluated (a return type imported only under `TYPE_CHECKING`, say); then each
    parameter is resolved on its own and those that cannot be stay strings.
    """
    try:
        return inspect.signature(func, eval_str=True)
    except Exception as exc:
        logger.debug("resolving %r's annotations one by one: %r", func, exc)
    signature = inspect.signature(func)
    # The annotations may come from a wrapped function: evaluate them in its globals.
    target = inspect.unwrap(func, stop=lambda f: hasattr(f, "__signature__"))
    namespace = getattr(target, "__globals__", {})
    params = []
    for param in signature.parameters.values():
        if isinstance(param.annotation, str):
            try:
                param = param.replace(annotation=eval(param.annotation, namespace))
            except Exception:
                logger.debug("annotation %r of %r stays a string", param.annotation, func)
        params.append(param)
    return signature.replace(parameters=params)


__all__ = ["resolve_signature_annotations"]
