"""The kernel side under faults: a server gone for good, then back on the user's retry."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from jupyter_opencode.kernel import Chat, ServerClient

from .test_kernel_widget import TOKEN, FakeOpencodeServer, from_browser, wait_for


@pytest.fixture
def fake() -> Iterator[FakeOpencodeServer]:
    """A stand-in of the extension's server, in a thread."""
    server = FakeOpencodeServer()
    yield server
    server.stop()


def test_reconnect_gives_up_after_five_tries_then_retries(fake: FakeOpencodeServer) -> None:
    client = ServerClient(fake.url, TOKEN, connect_timeout=1.0, initial_backoff=0.02,
                          max_backoff=0.05)  # fmt: skip
    chat = Chat(client=client)
    try:
        wait_for(lambda: chat.connection == "connected")
        states: list[str] = []
        chat.observe(lambda change: states.append(change["new"]), names="connection")
        fake.refuse = True
        fake.drop_sockets()
        wait_for(lambda: chat.connection == "disconnected", timeout=10)
        assert states[0] == "reconnecting"
        assert "gave up after 5 tries" in chat.connection_error
        assert "503" in chat.connection_error
        time.sleep(0.3)  # no more tries until the user asks
        assert chat.connection == "disconnected"
        fake.refuse = False
        from_browser(chat, {"type": "retry"})
        wait_for(lambda: chat.connection == "connected", timeout=10)
    finally:
        chat.close()
        client.close()
