"""SSE reading with httpx-sse: its cost per event against a bare socket read, and what it adds.

A fast model streams about 2,000 tokens/s, one opencode event each: 500 us per event. The extra
cost of httpx-sse over the cheapest possible reader must stay under 5 % of that.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from harness import Figure, main, median
from jupyter_opencode.server.turn import Turn
from jupyter_opencode.worker.sse import sse_batches

EVENTS = 20_000
ROUNDS = 3
BENCH = "sse"
FAST_MODEL_EVENT_US = 500.0


def _events() -> list[dict[str, object]]:
    """Text deltas as opencode sends them, after the messages that make them ours."""
    user = {"role": "user", "id": "u1", "time": {"created": 1e15}}
    assistant = {"role": "assistant", "id": "a1", "parentID": "u1"}
    head: list[dict[str, object]] = [
        {"type": "message.updated", "properties": {"info": user}},
        {"type": "message.updated", "properties": {"info": assistant}},
    ]
    deltas = [
        {
            "type": "message.part.delta",
            "properties": {
                "sessionID": "ses",
                "messageID": "a1",
                "partID": "p1",
                "field": "text",
                "delta": f"w{i} ",
            },
        }
        for i in range(EVENTS)
    ]
    return head + deltas


class _EventStream(RequestHandler):
    """Sends every event at once, as fast as the socket takes them."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        for event in self.settings["events"]:
            self.write(f"data: {json.dumps(event)}\n\n")
        await self.flush()


async def _read(url: str) -> float:
    started = time.perf_counter()
    count = 0
    async for batch in sse_batches(url, {}):
        count += len(batch)
    assert count == EVENTS + 2, count
    return time.perf_counter() - started


async def _read_bare(url: str) -> float:
    """The cheapest reader: raw socket bytes, split into lines, ``data:`` lines parsed."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /event HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    count, buffer = 0, b""
    while data := await reader.read(1 << 16):
        *lines, buffer = (buffer + data).split(b"\n")
        count += sum(1 for line in lines if line.startswith(b"data:") and json.loads(line[5:]))
    writer.close()
    assert count == EVENTS + 2, count
    return time.perf_counter() - started


def _handle(events: list[dict[str, object]]) -> float:
    """Our per-event work after reading: the turn's translation and the frame's encoding."""
    started = time.perf_counter()
    turn = Turn(session_id="s", message_id="m", model=None, next_seq=0)
    turn.prompting()
    turn.prompted_ms = 0
    for event in events:
        chunks, _ = turn.handle(event)
        for chunk in chunks:
            json.dumps({"type": "chunk", "session_id": "s", "message_id": "m", **chunk})
    assert len(turn.text) > EVENTS
    return time.perf_counter() - started


async def bench(tmp: Path) -> list[Figure]:
    """Read the same stream several times; compare with handling the events."""
    events = _events()
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(Application([("/event", _EventStream)], events=events))
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/event"
    reads = [await _read(url) for _ in range(ROUNDS)]
    bare = [await _read_bare(url) for _ in range(ROUNDS)]
    handled = [_handle(events) for _ in range(ROUNDS)]
    server.stop()
    read_us = median(reads) / len(events) * 1e6
    bare_us = median(bare) / len(events) * 1e6
    handle_us = median(handled) / len(events) * 1e6
    extra = max(read_us - bare_us, 0.0)
    return [
        Figure(BENCH, "httpx-sse read per event", read_us, "us"),
        Figure(BENCH, "bare socket read per event", bare_us, "us"),
        Figure(BENCH, "our handling per event (turn + frame)", handle_us, "us"),
        Figure(
            BENCH,
            "httpx-sse extra / event of a 2,000 token/s model",
            extra / FAST_MODEL_EVENT_US,
            "x",
            target=0.05,
        ),
    ]


if __name__ == "__main__":
    main(bench)
