"""Browser tests drive Playwright's sync API, which owns the thread's event loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from jupyter_opencode.testing import chromium


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Replace pytest-jupyter's autouse loop fixture: closing it would close Playwright's loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """Replace pytest-jupyter's autouse in-process server cleanup: these tests run none."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (one per test module)."""
    with chromium() as browser:
        yield browser
