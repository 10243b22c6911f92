"""The Chat widget and its network client against a small real server speaking the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.websocket import WebSocketClosedError, WebSocketHandler

import jupyter_opencode.kernel.reply
from jupyter_opencode.kernel import Chat, OpencodeConnectionError, ServerClient
from jupyter_opencode.kernel.discovery import NO_SERVER_MESSAGE

TOKEN = "secret-token"


class FakeOpencodeServer:
    """The REST + WebSocket API of the extension, answering every prompt with canned chunks."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.sockets: list[StreamSocket] = []
        self.posts: list[dict[str, Any]] = []
        self.reply_chunks: list[str] = ["Hello", " from ", "the fake.\n\n```python\nx = 1\n```\n"]
        self.pace = 0.001
        self.refuse = False
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(5)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        app = web.Application(
            [
                (r"/opencode/stream", StreamSocket, {"fake": self}),
                (r"/opencode/models", ModelsHandler, {"fake": self}),
                (r"/opencode/sessions", SessionsHandler, {"fake": self}),
                (r"/opencode/sessions/([^/]+)", SessionHandler, {"fake": self}),
                (r"/opencode/sessions/([^/]+)/messages", MessagesHandler, {"fake": self}),
                (r"/opencode/sessions/([^/]+)/abort", AbortHandler, {"fake": self}),
            ]
        )
        self.server = HTTPServer(app)
        self.server.add_sockets(sockets)
        started.set()
        self.loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def session(self, sid: str) -> dict[str, Any]:
        return self.sessions.setdefault(
            sid, {"id": sid, "title": "Fake", "messages": [], "chunks": [], "seq": 0, "task": None}
        )

    def publish(self, sid: str, event: dict[str, Any]) -> None:
        session = self.session(sid)
        if event["type"] == "chunk":
            session["seq"] += 1
            event["seq"] = session["seq"]
            session["chunks"].append(event)
        for sock in list(self.sockets):
            if sid in sock.subscribed:
                with contextlib.suppress(WebSocketClosedError):
                    sock.write_message(json.dumps(event))

    async def answer(self, sid: str, assistant: dict[str, Any]) -> None:
        try:
            for delta in self.reply_chunks:
                await asyncio.sleep(self.pace)
                assistant["content"] += delta
                self.publish(
                    sid,
                    {
                        "type": "chunk",
                        "session_id": sid,
                        "message_id": assistant["id"],
                        "kind": "text",
                        "delta": delta,
                    },
                )
            assistant["status"] = "complete"
        except asyncio.CancelledError:
            assistant["status"] = "aborted"
        self.publish(sid, {"type": "message", "session_id": sid, "message": dict(assistant)})

    def drop_sockets(self) -> None:
        def close() -> None:
            for sock in list(self.sockets):
                sock.close()

        self.loop.call_soon_threadsafe(close)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def message(sid: str, role: str, content: str, status: str = "complete") -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "session_id": sid,
        "role": role,
        "status": status,
        "content": content,
        "error": None,
        "model": None,
        "created_at": time.time(),
        "completed_at": None,
        "context": [],
        "parts": [],
    }


class FakeHandler(web.RequestHandler):
    def initialize(self, fake: FakeOpencodeServer) -> None:
        self.fake = fake

    def prepare(self) -> None:
        if self.fake.refuse:
            raise web.HTTPError(503)
        if self.request.headers.get("Authorization") != f"token {TOKEN}":
            raise web.HTTPError(403)


class StreamSocket(WebSocketHandler, FakeHandler):
    def open(self, *args: Any) -> None:
        self.subscribed: set[str] = set()
        self.fake.sockets.append(self)
        self.write_message(json.dumps({"type": "connected"}))

    def on_message(self, raw: str | bytes) -> None:
        frame = json.loads(raw)
        sid = frame["session_id"]
        if frame["type"] == "subscribe":
            self.subscribed.add(sid)
            for chunk in self.fake.session(sid)["chunks"]:
                if chunk["seq"] > frame["after_seq"]:
                    self.write_message(json.dumps(chunk))

    def on_close(self) -> None:
        self.fake.sockets.remove(self)


class ModelsHandler(FakeHandler):
    def get(self) -> None:
        self.finish({"models": [{"id": "fake/echo-1", "name": "Echo"}], "default": "fake/echo-1"})


class SessionsHandler(FakeHandler):
    def get(self) -> None:
        sessions = [{"id": s["id"], "title": s["title"]} for s in self.fake.sessions.values()]
        self.finish({"sessions": sessions, "next_cursor": None})


class SessionHandler(FakeHandler):
    def get(self, sid: str) -> None:
        if sid not in self.fake.sessions:
            raise web.HTTPError(404)
        self.finish({"id": sid, "title": self.fake.sessions[sid]["title"]})


class MessagesHandler(FakeHandler):
    def get(self, sid: str) -> None:
        if sid not in self.fake.sessions:
            raise web.HTTPError(404)
        messages = self.fake.sessions[sid]["messages"]
        self.finish({"messages": messages, "has_more": False})

    def post(self, sid: str) -> None:
        body = json.loads(self.request.body)
        self.fake.posts.append(body)
        session = self.fake.session(sid)
        user = message(sid, "user", body["text"])
        user["context"] = body.get("context", [])
        assistant = message(sid, "assistant", "", status="pending")
        session["messages"] += [user, assistant]
        session["task"] = asyncio.ensure_future(self.fake.answer(sid, assistant))
        self.set_status(202)
        self.finish(
            {
                "session": {"id": sid, "title": session["title"]},
                "user_message": user,
                "assistant_message": dict(assistant),
            }
        )


class AbortHandler(FakeHandler):
    def post(self, sid: str) -> None:
        task = self.fake.session(sid)["task"]
        if task is not None:
            task.cancel()
        self.finish({})


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
def fake() -> Iterator[FakeOpencodeServer]:
    server = FakeOpencodeServer()
    yield server
    server.stop()


@pytest.fixture
def client(fake: FakeOpencodeServer) -> Iterator[ServerClient]:
    client = ServerClient(fake.url, TOKEN, connect_timeout=1.0, initial_backoff=0.05)
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
    reply = chat.ask("hi", display_reply=False, timeout=10)
    assert reply.status == "complete"
    assert str(reply) == "Hello from the fake.\n\n```python\nx = 1\n```\n"
    assert reply.code == ["x = 1"]
    assert [m["role"] for m in chat.messages] == ["user", "assistant"]
    assert wait_for(lambda: streamed_text(chat) == reply.text)
    assert not chat.busy
    assert chat.models == [{"id": "fake/echo-1", "name": "Echo"}]
    assert chat.model == "fake/echo-1"
    chat.close()


def test_stream_through_the_comm_is_paced_and_delta_only(
    fake: FakeOpencodeServer, client: ServerClient
) -> None:
    fake.reply_chunks = [f"token{i} " for i in range(1500)]
    fake.pace = 0.0005
    chat = Chat(client=client)
    reply = chat.ask("long", display_reply=False, timeout=30)
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


def test_ask_timeout_and_a_lost_server_end_the_wait_with_a_clear_error(
    fake: FakeOpencodeServer, client: ServerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jupyter_opencode.kernel.reply, "LOST_CONNECTION_GRACE", 0.5)
    fake.reply_chunks = ["x"] * 2000
    fake.pace = 0.002
    chat = Chat(client=client)
    with pytest.raises(TimeoutError, match="still streaming"):
        chat.ask("slow", display_reply=False, timeout=0.3)
    assert chat._waiters == {}  # a given-up wait keeps nothing
    from_browser(chat, {"type": "stop"})
    wait_for(lambda: not chat.busy)

    def lose_the_server() -> None:
        fake.refuse = True
        fake.drop_sockets()

    threading.Timer(0.3, lose_the_server).start()
    started = time.monotonic()
    with pytest.raises(OpencodeConnectionError, match=r"HTTP 503.*load this session again"):
        chat.ask("hello?", display_reply=False, timeout=10)
    assert time.monotonic() - started < 5
    assert chat._waiters == {}
    chat.close()


def test_reconnect_resumes_from_the_last_seq(
    fake: FakeOpencodeServer, client: ServerClient
) -> None:
    fake.reply_chunks = [f"w{i} " for i in range(400)]
    fake.pace = 0.002
    chat = Chat(client=client)
    states: list[str] = []
    chat.observe(lambda change: states.append(change["new"]), names="connection")
    from_browser(chat, {"type": "send", "text": "go"})
    wait_for(lambda: len(streamed_text(chat)) > 200)
    fake.drop_sockets()
    wait_for(lambda: not chat.busy, timeout=15)
    expected = "".join(fake.reply_chunks)
    assert chat.messages[-1]["content"] == expected
    assert streamed_text(chat) == expected  # nothing missed, nothing twice
    assert "reconnecting" in states and states[-1] == "connected"
    chat.close()


def test_browser_send_takes_context_and_stop_aborts(
    fake: FakeOpencodeServer, client: ServerClient
) -> None:
    fake.reply_chunks = ["x"] * 2000
    fake.pace = 0.002
    chat = Chat(client=client)
    chip = chat.attach("some notes", label="notes")
    assert chat.context == [chip]
    from_browser(chat, {"type": "send", "text": "with context"})
    wait_for(lambda: fake.posts)
    assert fake.posts[0]["context"] == [{"kind": "text", "label": "notes", "text": "some notes"}]
    assert chat.context == []
    wait_for(lambda: chat.busy and streamed_text(chat))
    from_browser(chat, {"type": "send", "text": "again"})
    assert customs(chat, "notice")[-1]["level"] == "error"
    from_browser(chat, {"type": "stop"})
    wait_for(lambda: not chat.busy)
    assert chat.messages[-1]["status"] == "aborted"
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


def test_ready_resets_and_load_restores_a_session(client: ServerClient) -> None:
    first = Chat(client=client)
    first.ask("remember me", display_reply=False, timeout=10)
    second = Chat(first.session_id, client=client)
    wait_for(lambda: len(second.messages) == 2)
    assert second.messages[0]["content"] == "remember me"
    wait_for(lambda: second.title == "Fake")  # the title is read after the messages
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


def test_wrong_token_is_reported(fake: FakeOpencodeServer) -> None:
    client = ServerClient(fake.url, "wrong", connect_timeout=0.5)
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
    fake: FakeOpencodeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_OPENCODE_URL", fake.url.rstrip("/"))
    monkeypatch.setenv("JUPYTER_OPENCODE_TOKEN", TOKEN)
    client = ServerClient(connect_timeout=0.5)
    try:
        assert client.wait_connected(5)
        assert client.models().result(5)["default"] == "fake/echo-1"
    finally:
        client.close()
