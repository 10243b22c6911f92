"""These tests drive Playwright's sync API, which owns the thread's event loop."""

from __future__ import annotations

import pytest


# tests/conftest.py loads pytest-jupyter, whose autouse fixtures then apply here too when
# `pytest -m browser tests/browser js/test` runs both directories in one process.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Replace pytest-jupyter's autouse loop fixture: closing it would close Playwright's loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """Replace pytest-jupyter's autouse in-process server cleanup: these tests run none."""
