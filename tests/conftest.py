"""Fixtures: a real Jupyter server with the extension, the real opencode, the fake model."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess, opencode_config

from .streams import Api, StreamClient

pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "jupyter_opencode.testing.fixtures",
    "tests.deploy",
]


@pytest.fixture(scope="session")
def opencode_config_file(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess
) -> Path:
    """An opencode configuration pointing at the fake model, with bash behind a permission."""
    path = tmp_path_factory.mktemp("opencode") / "opencode.json"
    path.write_text(json.dumps(opencode_config(fake_model.url, ask_bash=True)))
    return path


@pytest.fixture(scope="session")
def worker_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One opencode home for the whole run, so only the first worker pays for its set-up."""
    return tmp_path_factory.mktemp("worker-home")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The session database of one test's server."""
    return tmp_path / "sessions.db"


@pytest.fixture
def jp_server_config(
    db_path: Path, opencode_config_file: Path, worker_home: Path
) -> dict[str, Any]:
    """Enable the extension with a fresh database and the fake model."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_opencode": True}},
        "OpencodeExtension": {
            "db_path": str(db_path),
            "opencode_config": str(opencode_config_file),
            "worker_home": str(worker_home),
        },
    }


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    """JSON calls to the extension's REST routes."""
    return Api(jp_fetch)


@pytest.fixture
def open_stream(jp_ws_fetch: Any) -> Iterator[Callable[[], Awaitable[StreamClient]]]:
    """Opens WebSocket clients of ``opencode/stream``, greeted by the server; closes them after."""
    clients: list[StreamClient] = []

    async def open_one() -> StreamClient:
        client = StreamClient(await jp_ws_fetch("opencode", "stream"))
        assert (await client.next())["type"] == "connected"
        clients.append(client)
        return client

    yield open_one
    for client in clients:
        client.close()
