"""Every plugin test starts and ends with an empty hook table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mellea.core import hooks
from mellea.plugins import _table


@pytest.fixture(autouse=True)
def _empty_hook_table() -> Iterator[None]:
    _table.reset()
    yield
    _table.reset()
    assert not hooks.active
