"""Formatters: how components become prompt text and chat messages.

- `ChatFormatter` — components as text, histories as `Message`s (what backends use);
- `TemplateFormatter` — the same, with representations rendered from Jinja2 template
  files chosen per model;
- `Formatter` — the protocol (`mellea.core.formatter`);
- `templating` — the sandboxed Jinja2 rendering every prompt template goes through;
- `wire` — messages as the OpenAI-style dicts every engine takes.
"""

from ..core.formatter import Formatter
from .chat_formatter import ChatFormatter
from .template_formatter import TemplateFormatter

__all__ = ["ChatFormatter", "Formatter", "TemplateFormatter"]
