"""`TemplateFormatter`: representations rendered with Jinja2 template files.

A component whose `format_for_llm()` returns a `TemplateRepresentation` with
`template_order` (template names; `"*"` is the component's class name) is rendered with
the first `<name>.jinja2` found, looking

1. in the formatter's `template_path`, then
2. in the `templates/prompts/` directory of the package that defines the component's
   class (a third-party package ships its own templates), then in mellea's.

Inside a templates directory the formatter prefers the deepest subdirectory whose names
match the model id (`granite/granite-3-2/instruct/` for
`ibm-granite/granite-3.2-8b-instruct`: a directory matches when its name, without `-._/:,`,
appears in the model id likewise simplified), falling back to `default/`. An inline
`template` is used as is; with neither, or no template file found, the representation's
arguments are rendered as `ChatFormatter` does. Templates render in the prompt sandbox
(`mellea.formatters.templating`). Lookups are cached per formatter (`use_template_cache`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..core.base import Component, TemplateRepresentation
from .chat_formatter import ChatFormatter
from .templating import render

logger = logging.getLogger("mellea")

_TEMPLATE_CACHE_SIZE = 64
_SIMPLIFY = re.compile(r"[-./:,]")


def simplify_model_name(name: str) -> str:
    """`name` lower-cased without `-._/:,` (how model ids and directory names are matched)."""
    return _SIMPLIFY.sub("", name.lower())


def model_name_of(model_id: object) -> str:
    """The name templates are matched against: the string, or an identifier's first name."""
    if isinstance(model_id, str):
        return model_id
    if dataclasses.is_dataclass(model_id) and not isinstance(model_id, type):
        for f in dataclasses.fields(model_id):
            value = getattr(model_id, f.name)
            if isinstance(value, str) and value:
                return value
        return ""
    return str(model_id or "")


def find_template(root: str | os.PathLike[str], file_name: str, model_name: str) -> Path | None:
    """The best `file_name` under `root` for `model_name`: deepest model match, else default/."""
    simplified = simplify_model_name(model_name)
    best: tuple[int, Path] | None = None
    for directory, dirs, files in os.walk(root):
        depth = Path(directory).relative_to(root).parts
        # Walk only into directories that name part of the model (and prompts/, default/).
        dirs[:] = sorted(
            d for d in dirs
            if d.lower() in ("prompts", "default") or simplify_model_name(d) in simplified
        )  # fmt: skip
        match = next((f for f in files if f.lower() == file_name.lower()), None)
        if match is None:
            continue
        is_default = bool(depth) and depth[-1].lower() == "default"
        score = -1 if is_default else len(depth)
        if best is None or score > best[0]:
            best = (score, Path(directory) / match)
    return None if best is None else best[1]


def _package_templates(module: str) -> Path | None:
    """`<package>/templates/prompts` of the top-level package that defines `module`."""
    package = module.split(".", 1)[0]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "templates" / "prompts"
        if candidate.is_dir():
            return candidate
    return None


class TemplateFormatter(ChatFormatter):
    """Renders representations with Jinja2 template files chosen for `model_id`.

    Args:
        model_id: The model templates are chosen for (a name or a `model_ids` constant).
        template_path: A templates directory searched before any package's.
        use_template_cache: Remember which file each lookup found (turn off when files
            change while the formatter is in use).
    """

    def __init__(
        self, model_id: object, *, template_path: str = "", use_template_cache: bool = True
    ) -> None:
        self.model_id = model_id
        self._template_path = template_path
        self._use_template_cache = use_template_cache
        self._cache: OrderedDict[tuple[str, str, tuple[str, ...]], str | None] = OrderedDict()

    def render_representation(
        self, rep: TemplateRepresentation, component: Component[Any] | None = None
    ) -> str:
        if rep.template is None and rep.template_order:
            source = self._template_source(rep, component)
            if source is not None:
                args = {key: self.stringify(value) for key, value in rep.args.items()}
                return render(source, args)
        return super().render_representation(rep, component)

    def _template_source(
        self, rep: TemplateRepresentation, component: Component[Any] | None
    ) -> str | None:
        owner = rep.obj if rep.obj is not None else component
        cls = type(owner)
        names = tuple(
            f"{cls.__name__ if name == '*' else name}.jinja2" for name in rep.template_order or ()
        )
        key = (cls.__module__, cls.__qualname__, names)
        if self._use_template_cache and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        path = self._lookup(names, cls.__module__)
        source = path.read_text(encoding="utf-8") if path is not None else None
        if path is None:
            logger.debug("no template file among %s for %s; rendering its arguments", names, cls)
        if self._use_template_cache:
            self._cache[key] = source
            while len(self._cache) > _TEMPLATE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return source

    def _lookup(self, file_names: tuple[str, ...], module: str) -> Path | None:
        model = model_name_of(self.model_id)
        roots: list[Path] = []
        if self._template_path:
            roots.append(Path(self._template_path))
        for package_module in (module, __name__):
            root = _package_templates(package_module)
            if root is not None and root not in roots:
                roots.append(root)
        for file_name in file_names:  # the representation's order first, then the roots'
            for root in roots:
                found = find_template(root, file_name, model)
                if found is not None:
                    return found
        return None


__all__ = ["TemplateFormatter", "find_template", "model_name_of", "simplify_model_name"]
