"""What users' type checkers see: the package ships `py.typed`, so its exports are a promise.

`make lint` runs `mypy --strict` over the package itself. What it cannot see from there is
a package whose `__all__` is computed (`list(_EXPORTS)` of lazily loaded names): a type
checker reads `__all__` only when it is written out, so each name of it imported under
`TYPE_CHECKING` must be re-exported explicitly (`import X as X`), or `from pkg import X`
fails in users' strictly checked code ("does not explicitly export").
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import mellea

ROOT = Path(mellea.__file__).parent


def _modules_with_computed_all() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                and not _literal_names(node.value)
            ):
                rel = path.relative_to(ROOT.parent).with_suffix("")
                parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
                names.append(".".join(parts))
    return names


def _literal_names(value: ast.expr) -> bool:
    """True if `__all__` is a list/tuple of string literals only (what type checkers read)."""
    return isinstance(value, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
    )


def _type_checking_imports(tree: ast.Module) -> dict[str, bool]:
    """Names imported under `if TYPE_CHECKING:` -> imported as themselves (`X as X`)."""
    found: dict[str, bool] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.Import | ast.ImportFrom):
                    for alias in stmt.names:
                        name = alias.asname or alias.name.split(".")[0]
                        found[name] = alias.asname == alias.name
    return found


def _written_out(tree: ast.Module) -> set[str]:
    """The string literals of the `__all__` expression (e.g. `["ModelOption", *_EXPORTS]`)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            return {
                n.value
                for n in ast.walk(node.value)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
    return set()


def test_the_check_finds_the_lazy_packages() -> None:
    assert {"mellea", "mellea.backends", "mellea.stdlib"} <= set(_modules_with_computed_all())


@pytest.mark.parametrize("module", _modules_with_computed_all())
def test_lazily_exported_names_are_explicit_re_exports(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__file__ is not None
    tree = ast.parse(Path(mod.__file__).read_text())
    imports = _type_checking_imports(tree)
    written = _written_out(tree)
    top_level = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    } | {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    for name in mod.__all__:
        if name in written or name in top_level:
            continue
        assert name in imports, f"{module}.{name}: not declared under TYPE_CHECKING"
        assert imports[name], f"{module}.{name}: import it as `{name} as {name}`"


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    # mypy's `ignore-without-code` enforces the code; the reason is for the next reader.
    bare = [
        f"{path.relative_to(ROOT.parent)}:{n}"
        for path in sorted(ROOT.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "# type: ignore" in line and not re.search(r"# type: ignore\[[\w,-]+\]  # \S", line)
    ]
    assert not bare, f"a `# type: ignore[code]` without `  # why`: {bare}"
