"""pytest plugin: ``pytest_plugins = ["jupyter_opencode.testing.fixtures"]``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .process import FakeModelProcess


@pytest.fixture(scope="session")
def fake_model() -> Iterator[FakeModelProcess]:
    """Yield a fake model server subprocess shared by the whole test session."""
    with FakeModelProcess() as model:
        yield model
