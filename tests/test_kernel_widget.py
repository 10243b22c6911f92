"""The Chat widget and its network client against a real Jupyter server with the extension.

The server runs the real opencode on the fake model; a TCP relay between the kernel side and
the server stands for the network, so a test can cut it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

import jupyter_opencode.kernel.reply
from jupyter_opencode.demo.scripts import DEMO_CODE
from jupyter_opencode.kernel import Chat, OpencodeConnectionError, ServerClient
from jupyter_opencode.kernel.discovery import NO_SERVER_MESSAGE
from jupyter_opencode.testing import (
    FakeModelProcess,
    JupyterProcess,
    expected_text,
    opencode_config,
)

TOKEN = JupyterProcess.token


class Relay:
    """A TCP relay to the server that a test can cut (drop its connections, or refuse new ones)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.writers: set[asyncio.StreamWriter] = set()
        self.refusing = False
        self.stalled = False  # connections stay open but nothing gets through
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._link, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ends = [writer]
        try:
            if self.refusing:
                return
            # Cancelled: the relay is closing and this link did not end when its ends closed.
            with contextlib.suppress(OSError, asyncio.CancelledError):
                upstream, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
                ends.append(up_writer)
                self.writers.update(ends)
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(upstream, writer))
        finally:  # no connection outlives the relay's loop
            for end in ends:
                end.close()
                self.writers.discard(end)
            for end in ends:
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await end.wait_closed()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if self.stalled:
                    continue
                sink.write(data)
                await sink.drain()
        sink.close()
        self.writers.discard(sink)

    def drop(self) -> None:
        """Cut every open connection (the server stays reachable)."""

        def cut() -> None:
            for writer in list(self.writers):
                writer.close()

        self.loop.call_soon_threadsafe(cut)

    def refuse(self) -> None:
        """Cut every connection and hang up on new ones: the server is gone."""
        self.refusing = True
        self.drop()

    def accept(self) -> None:
        """The server is back."""
        self.refusing = False

    def close(self) -> None:
        """Stop listening and end every link before the loop closes."""
        self.refusing = True

        async def shut() -> None:
            assert self.server is not None
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            links = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if links:
                _, stuck = await asyncio.wait(links, timeout=2)
                for link in stuck:
                    link.cancel()
                await asyncio.gather(*links, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess, worker_home: Path
) -> Iterator[JupyterProcess]:
    """A real Jupyter server with the extension, answering from the fake model."""
    tmp = tmp_path_factory.mktemp("kernel-widget")
    config = tmp / "opencode.json"
    config.write_text(json.dumps(opencode_config(fake_model.url)))
    with JupyterProcess(tmp, opencode_config=config, worker_home=worker_home) as server:
        yield server


@pytest.fixture
def relay(server: JupyterProcess) -> Iterator[Relay]:
    relay = Relay(server.port)
    yield relay
    relay.close()


class RecordingComm(BaseComm):
    """A comm that keeps what the kernel would publish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.published.append({"msg_type": msg_type, "data": data, "at": time.monotonic()})


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


@pytest.fixture
def client(relay: Relay) -> Iterator[ServerClient]:
    client = ServerClient(relay.url, TOKEN, connect_timeout=1.0, initial_backoff=0.05)
    yield client
    client.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def customs(chat: Chat, kind: str | None = None) -> list[dict[str, Any]]:
    sent = [
        m["data"]["content"] for m in chat.comm.published if m["data"].get("method") == "custom"
    ]
    return [m for m in sent if kind is None or m["type"] == kind]


def from_browser(chat: Chat, content: dict[str, Any]) -> None:
    chat.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def forwarded(chat: Chat) -> list[dict[str, Any]]:
    return [frame for batch in customs(chat, "frames") for frame in batch["frames"]]


def streamed_text(chat: Chat) -> str:
    chunks = [f for f in forwarded(chat) if f["type"] == "chunk" and f["kind"] == "text"]
    return "".join(f["delta"] for f in chunks)


def test_ask_streams_the_reply_and_returns_it(client: ServerClient) -> None:
    chat = Chat(client=client)
    reply = chat.ask("hi", display_reply=False, timeout=60)
    assert reply.status == "complete"
    assert str(reply) == expected_text("hi")
    assert reply.code == [DEMO_CODE]
    assert [m["role"] for m in chat.messages] == ["user", "assistant"]
    assert wait_for(lambda: streamed_text(chat) == reply.text)
    assert not chat.busy
    default = client.models().result(10)["default"]
    assert wait_for(lambda: chat.model == default) and default in [m["id"] for m in chat.models]
    chat.close()


def test_stream_through_the_comm_is_paced_and_delta_only(client: ServerClient) -> None:
    chat = Chat(client=client)
    reply = chat.ask("[[slow:1500:0.0005]]", display_reply=False, timeout=60)
    assert reply.text == expected_text("[[slow:1500:0.0005]]")
    assert streamed_text(chat) == reply.text
    frames = [m for m in chat.comm.published if m["data"].get("method") == "custom"]
    frames = [m for m in frames if m["data"]["content"]["type"] == "frames"]
    duration = frames[-1]["at"] - frames[0]["at"]
    assert len(frames) <= 40 * duration + 3
    # Deltas only: no frame carries the whole body again, the final one just settles the status.
    sent_frames = [f for m in frames for f in m["data"]["content"]["frames"]]
    assert not any(f.get("message", {}).get("content") == reply.text for f in sent_frames)
    last = sent_frames[-1]
    assert last["type"] == "message" and last["message"]["status"] == "complete"
    sent = sum(len(json.dumps(m["data"]["content"])) for m in frames)
    assert sent <= 1.2 * len(reply.text) + 250 * len(frames)
    chat.close()


def test_the_panel_cadence_paces_what_it_is_sent(client: ServerClient) -> None:
    chat = Chat(client=client)
    from_browser(chat, {"type": "cadence", "cadence_ms": 200})
    from_browser(chat, {"type": "cadence", "cadence_ms": "fast"})  # ignored: 200 ms stays
    reply = chat.ask("[[slow:300:0.005]]", display_reply=False, timeout=60)
    assert streamed_text(chat) == reply.text
    frames = [m for m in chat.comm.published if m["data"].get("method") == "custom"]
    frames = [m for m in frames if m["data"]["content"]["type"] == "frames"]
    duration = frames[-1]["at"] - frames[0]["at"]
    assert duration > 1 and len(frames) <= duration / 0.2 + 3, (len(frames), duration)
    chat.close()


def test_ask_timeout_and_a_lost_server_end_the_wait_with_a_clear_error(
    relay: Relay, client: ServerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jupyter_opencode.kernel.reply, "LOST_CONNECTION_GRACE", 0.5)
    chat = Chat(client=client)
    with pytest.raises(TimeoutError, match="still streaming"):
        chat.ask("[[slow:2000:0.002]]", display_reply=False, timeout=2)
    assert chat._waiters == {}  # a given-up wait keeps nothing
    from_browser(chat, {"type": "stop"})
    wait_for(lambda: not chat.busy, timeout=30)

    cut = threading.Timer(1.0, relay.refuse)
    cut.start()
    started = time.monotonic()
    try:
        with pytest.raises(OpencodeConnectionError, match=r"Cannot reach.*load this session again"):
            chat.ask("[[slow:2000:0.002]] hello?", display_reply=False, timeout=30)
    finally:
        cut.cancel()  # a failure before the cut must not cut the next test's relay
    assert time.monotonic() - started < 15
    assert chat._waiters == {}
    chat.close()


def test_reconnect_resumes_from_the_last_seq(relay: Relay, client: ServerClient) -> None:
    chat = Chat(client=client)
    states: list[str] = []
    chat.observe(lambda change: states.append(change["new"]), names="connection")
    from_browser(chat, {"type": "send", "text": "[[slow:400:0.005]] go"})
    wait_for(lambda: len(streamed_text(chat)) > 200, timeout=60)
    relay.drop()
    # The session's idle status may come before the final message: wait for the message.
    wait_for(lambda: chat.messages[-1]["status"] == "complete", timeout=60)
    wait_for(lambda: not chat.busy)
    expected = expected_text("[[slow:400:0.005]] go")
    assert chat.messages[-1]["content"] == expected
    streamed = streamed_text(chat)
    assert expected.startswith(streamed)  # nothing twice
    if streamed != expected:
        # The catch-up read after reconnecting finished first: the final message brings the rest.
        finals = [f["message"] for f in forwarded(chat) if f["type"] == "message"]
        assert finals[-1]["content"] == expected  # nothing missed
    assert "reconnecting" in states and states[-1] == "connected"
    chat.close()


def test_browser_send_takes_context_and_stop_aborts(client: ServerClient) -> None:
    chat = Chat(client=client)
    chip = chat.attach("some notes", label="notes")
    assert chat.context == [chip]
    from_browser(chat, {"type": "send", "text": "[[slow:2000:0.002]] with context"})
    assert chat.context == []
    wait_for(lambda: chat.busy and streamed_text(chat), timeout=60)
    stored = client.list_messages(chat.session_id, 10).result(10)["messages"][0]
    assert [(c["kind"], c["label"], c["text"]) for c in stored["context"]] == [
        ("text", "notes", "some notes")
    ]
    from_browser(chat, {"type": "send", "text": "again"})
    assert customs(chat, "notice")[-1]["level"] == "error"
    from_browser(chat, {"type": "stop"})
    # The session's idle status may come before the final message: wait for the message.
    wait_for(lambda: chat.messages[-1]["status"] == "aborted", timeout=30)
    wait_for(lambda: not chat.busy)
    chat.close()


def test_commands_the_kernel_runs_for_the_panel(client: ServerClient) -> None:
    chat = Chat(client=client)
    from_browser(chat, {"type": "command", "name": "context", "arg": "x"})
    assert "number" in customs(chat, "notice")[-1]["text"]
    from_browser(chat, {"type": "command", "name": "bogus", "arg": ""})
    assert customs(chat, "notice")[-1] == {
        "type": "notice",
        "level": "error",
        "text": "Unknown command /bogus. Type /help for the list.",
    }
    from_browser(chat, {"type": "fork"})
    assert "Nothing to fork" in customs(chat, "notice")[-1]["text"]
    old = chat.session_id
    chat.attach("pending")
    from_browser(chat, {"type": "new", "keep_context": True})
    assert chat.session_id != old and len(chat.context) == 1
    assert customs(chat, "reset")[-1] == {
        "type": "reset",
        "messages": [],
        "has_more": False,
        "seq": 0,
    }
    from_browser(chat, {"type": "new", "keep_context": False})
    assert chat.context == []
    chat.close()


def test_close_leaves_no_socket_open_when_the_server_never_answers_it(relay: Relay) -> None:
    client = ServerClient(relay.url, TOKEN, connect_timeout=1.0)
    assert client.wait_connected(10)
    assert client._ws is not None and client._ws.protocol is not None
    stream = client._ws.protocol.stream
    assert stream is not None
    relay.stalled = True  # the server's close frame never comes back
    started = time.monotonic()
    client.close()
    assert stream.closed()
    assert time.monotonic() - started < 3


def test_ready_resets_and_load_restores_a_session(client: ServerClient) -> None:
    first = Chat(client=client)
    first.ask("remember me", display_reply=False, timeout=60)
    second = Chat(first.session_id, client=client)
    wait_for(lambda: len(second.messages) == 2)
    assert second.messages[0]["content"] == "remember me"
    wait_for(lambda: second.title == "remember me")  # the title is read after the messages
    from_browser(second, {"type": "ready"})
    reset = customs(second, "reset")[-1]
    assert [m["role"] for m in reset["messages"]] == ["user", "assistant"]
    wait_for(lambda: second.sessions)
    assert second.list_sessions()[0]["id"] == first.session_id
    first.close()
    second.close()


def test_remove_context_chip(client: ServerClient) -> None:
    chat = Chat(client=client)
    chip = chat.attach("x" * 10_000)
    assert chip["size"] < 4100 and chip["text"].endswith("… [truncated 6000 chars]")
    other = chat.attach(42, label="answer")
    from_browser(chat, {"type": "remove_context", "id": chip["id"]})
    assert chat.context == [other]
    chat.close()


def test_the_notebook_page_attaches_context_items(client: ServerClient) -> None:
    chat = Chat(client=client)
    notes = chat.attach("notes", label="notes")
    error = {"kind": "error", "label": "Error: KeyError", "text": "KeyError: 'colour'"}
    source = {"kind": "cell", "label": "Cell [2] source", "text": 'd["colour"]'}
    bad = [{"kind": "cell", "label": 3, "text": "x"}, "junk", {"kind": "cell"}]
    from_browser(chat, {"type": "attach", "context": [error, *bad, source]})
    assert chat.context[0] == notes
    assert [(c["kind"], c["label"], c["text"]) for c in chat.context[1:]] == [
        tuple(error.values()),
        tuple(source.values()),
    ]
    from_browser(chat, {"type": "attach", "context": "junk"})
    assert len(chat.context) == 3
    chat.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_offline_with_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    client = ServerClient(url, TOKEN, connect_timeout=0.5)
    try:
        chat = Chat(client=client)
        wait_for(lambda: chat.connection == "offline")
        assert chat.connection_error.startswith(f"Cannot reach the Jupyter server at {url}")
        started = time.monotonic()
        with pytest.raises(OpencodeConnectionError, match="Cannot reach") as info:
            chat.ask("hello?", display_reply=False)
        assert isinstance(info.value, ConnectionError)
        assert time.monotonic() - started < 3
        chat.close()
    finally:
        client.close()


def test_wrong_token_is_reported(server: JupyterProcess) -> None:
    client = ServerClient(server.url, "wrong", connect_timeout=0.5)
    try:
        assert not client.wait_connected(5)
        assert "rejected the token (HTTP 403)" in client.connection_error
    finally:
        client.close()


def test_no_server_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("JUPYTER_OPENCODE_URL", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    client = ServerClient(connect_timeout=0.5)
    try:
        assert not client.wait_connected(5)
        assert client.connection == "offline"
        assert client.connection_error == NO_SERVER_MESSAGE
    finally:
        client.close()


def test_environment_points_at_the_server(
    server: JupyterProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_OPENCODE_URL", server.url.rstrip("/"))
    monkeypatch.setenv("JUPYTER_OPENCODE_TOKEN", TOKEN)
    client = ServerClient(connect_timeout=0.5)
    try:
        assert client.wait_connected(5)
        assert client.models().result(10)["default"]
    finally:
        client.close()
