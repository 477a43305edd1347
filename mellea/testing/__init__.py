"""Testing tools for programs written with mellea: record generations once, replay offline.

- The pytest plugin (`mellea.testing.pytest_plugin`, registered as the `mellea` entry
  point): `@pytest.mark.mellea_cassette` / the `mellea_cassette` fixture.
- `use_cassette(path, "record" | "replay")`: the same outside pytest, as a context manager.
- `Cassette`: the recorded interactions of one test, bound to a file.

Importing this package (which pytest does for every run) loads nothing else of mellea.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

_EXPORTS = {
    "Cassette": "mellea.testing._cassette:Cassette",
    "use_cassette": "mellea.testing._cassette:use_cassette",
    "CassetteMissError": "mellea.core.errors:CassetteMissError",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from ..core.errors import CassetteMissError as CassetteMissError
    from ._cassette import Cassette as Cassette
    from ._cassette import use_cassette as use_cassette
