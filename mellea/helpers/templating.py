"""Sandboxed Jinja2 rendering of `{{ variable }}` prompts (see `mellea.formatters.templating`)."""

from ..formatters.templating import MAX_RESULT_CHARS, render

__all__ = ["MAX_RESULT_CHARS", "render"]
