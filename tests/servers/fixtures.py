"""pytest fixtures for the loopback server; ``tests/conftest.py`` imports them.

* ``loopback``: function-scoped, a fresh started thread-mode server, stopped at
  teardown.
* ``loopback_session``: session-scoped, shared; call ``reset()`` before use.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def loopback_session() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()
