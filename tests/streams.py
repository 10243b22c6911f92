"""Small clients of the extension's REST and WebSocket routes, for tests."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection

if sys.version_info >= (3, 11):
    from asyncio import timeout as time_limit
else:
    from async_timeout import timeout as time_limit

Frame = dict[str, Any]


class Api:
    """REST calls answering (status code, JSON body)."""

    def __init__(self, fetch: Any) -> None:
        self._fetch = fetch

    async def call(
        self, method: str, *path: str, body: Any = None, raw: bytes | None = None, **params: Any
    ) -> tuple[int, Any]:
        """Call a route under ``opencode/``."""
        kwargs: dict[str, Any] = {"method": method, "params": params, "raise_error": False}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PATCH"):
            kwargs["body"] = b"{}"
        try:
            response = await self._fetch("opencode", *path, **kwargs)
        except HTTPClientError as e:
            response = e.response
        text = response.body.decode() if response.body else ""
        return response.code, json.loads(text) if text else None

    async def prompt(self, sid: str, text: str, **extra: Any) -> Frame:
        """Send a prompt and check it was accepted."""
        code, body = await self.call(
            "POST", "sessions", sid, "messages", body={"text": text, **extra}
        )
        assert code == 202, body
        return body

    async def messages(self, sid: str) -> list[Frame]:
        """Every message of a session."""
        code, body = await self.call("GET", "sessions", sid, "messages", limit="500")
        assert code == 200, body
        return body["messages"]

    async def ask(self, sid: str, text: str, **extra: Any) -> Frame:
        """Send a prompt and return its answer once final."""
        body = await self.prompt(sid, text, **extra)
        return await self.wait_status(sid, body["assistant_message"]["id"])

    async def wait_status(self, sid: str, mid: str, timeout: float = 60.0) -> Frame:
        """Wait for a message to reach a final status."""
        async with time_limit(timeout):
            while True:
                found = [m for m in await self.messages(sid) if m["id"] == mid]
                if found and found[0]["status"] not in ("pending", "streaming"):
                    return found[0]
                await asyncio.sleep(0.1)


class StreamClient:
    """A WebSocket client of ``opencode/stream`` that keeps every frame it received."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []

    def send(self, **frame: Any) -> None:
        """Send one frame."""
        self.ws.write_message(json.dumps(frame))

    def subscribe(self, sid: str, after_seq: int = 0) -> None:
        """Subscribe to a session."""
        self.send(type="subscribe", session_id=sid, after_seq=after_seq)

    async def next(self, timeout: float = 60.0) -> Frame:
        """The next frame."""
        message = await asyncio.wait_for(self.ws.read_message(), timeout)
        assert message is not None, "the server closed the stream"
        frame: Frame = json.loads(message)
        self.frames.append(frame)
        return frame

    async def until(self, done: Callable[[Frame], bool], timeout: float = 90.0) -> list[Frame]:
        """Frames received until one satisfies ``done`` (included)."""
        received = []
        async with time_limit(timeout):
            while True:
                frame = await self.next(timeout)
                received.append(frame)
                if done(frame):
                    return received

    async def answer(self, api: Api, sid: str, text: str, timeout: float = 90.0) -> list[Frame]:
        """Subscribe, send a prompt over REST, and return the frames up to its final message."""
        self.subscribe(sid)
        await api.prompt(sid, text)
        return await self.until(final(sid), timeout)

    def close(self) -> None:
        """Close the socket."""
        self.ws.close()


def final(sid: str) -> Callable[[Frame], bool]:
    """Whether a frame is the final assistant message of a session."""
    return lambda f: (
        f["type"] == "message"
        and f["session_id"] == sid
        and f["message"]["role"] == "assistant"
        and f["message"]["status"] not in ("pending", "streaming")
    )


def text_of(frames: list[Frame], sid: str, kind: str = "text") -> str:
    """The concatenated deltas of one kind in one session."""
    return "".join(f["delta"] for f in frames if f.get("kind") == kind and f["session_id"] == sid)


Opener = Callable[[], Awaitable[StreamClient]]


async def ask(
    api: Api, stream: StreamClient, sid: str, text: str, replies: list[str]
) -> tuple[list[Frame], dict[str, Any]]:
    """Prompt; answer each permission prompt with the next reply; frames and final message."""
    stream.subscribe(sid)
    await api.prompt(sid, text)
    frames: list[Frame] = []
    answers = iter(replies)
    while True:
        frame = (await stream.until(lambda f: f.get("kind") == "permission" or final(sid)(f)))[-1]
        frames.append(frame)
        if frame.get("kind") != "permission":
            return frames, frame["message"]
        pid = frame["permission"]["id"]
        code, body = await api.call(
            "POST", "sessions", sid, "permissions", pid, body={"reply": next(answers)}
        )
        assert code == 200, body
