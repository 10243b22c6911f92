"""Faults inside one server: a broken event, a full database, a stalled model."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

import pytest

from jupyter_opencode.testing import expected_text

from .streams import Api, Opener, final, text_of


def _service(app: Any) -> Any:
    return app.web_app.settings["jupyter_opencode_service"]


async def test_broken_event_ends_only_its_answer(
    jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    service = _service(jp_serverapp)
    stream = await open_stream()
    broken, healthy = "fault-broken-1", "fault-healthy-1"
    stream.subscribe(broken)
    stream.subscribe(healthy)
    await api.prompt(broken, "[[slow:200:0.02]] one")
    other = "[[slow:60:0.02]] two"
    await api.prompt(healthy, other)
    await stream.until(lambda f: f.get("kind") == "text" and f["session_id"] == broken)
    turn = service.turns[broken]
    # A part without the id every text part has: the handling of this event raises.
    service.hub._dispatch(
        {
            "type": "message.part.updated",
            "properties": {
                "part": {
                    "sessionID": turn.opencode_session_id,
                    "messageID": next(iter(turn._assistant_ids)),
                    "type": "text",
                    "text": "x",
                }
            },
        }
    )
    ended = (await stream.until(final(broken), timeout=30))[-1]["message"]
    assert ended["status"] == "error" and "internal error" in ended["error"]
    assert ended["content"] == text_of(stream.frames, broken)
    done = (await stream.until(final(healthy), timeout=60))[-1]["message"]
    assert done["status"] == "complete" and done["content"] == expected_text(other)
    again = "after the fault"
    await api.prompt(broken, again)
    reply = (await stream.until(final(broken), timeout=60))[-1]["message"]
    assert reply["status"] == "complete" and reply["content"] == expected_text(again)


async def test_full_database_ends_the_answer_and_frees_the_session(
    jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    store = _service(jp_serverapp).store
    stream = await open_stream()
    sid = "fault-full-db-1"
    stream.subscribe(sid)
    await api.prompt(sid, "[[slow:150:0.02]] fill")
    await stream.until(lambda f: f.get("kind") == "text" and f["session_id"] == sid)
    # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk.
    await store.db.execute("PRAGMA max_page_count = 1")
    try:
        ended = (await stream.until(final(sid), timeout=60))[-1]["message"]
        assert ended["status"] == "error"
        assert "could not be saved" in ended["error"] and "full" in ended["error"]
        code, body = await api.call("POST", "sessions", sid, "messages", body={"text": "x" * 9000})
        assert code == 503 and body["reason"] == "store_busy"
    finally:
        await store.db.execute("PRAGMA max_page_count = 1073741823")
    assert await store.integrity_check() == "ok"
    text = "the disk has room again"
    await api.prompt(sid, text)
    reply = (await stream.until(final(sid), timeout=60))[-1]["message"]
    assert reply["status"] == "complete" and reply["content"] == expected_text(text)
    statuses = [m["status"] for m in await api.messages(sid)]
    assert "pending" not in statuses and "streaming" not in statuses


@pytest.fixture
def short_watchdog(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Answers silent for 2 s are ended."""
    jp_server_config["OpencodeExtension"]["turn_timeout"] = 2.0
    return jp_server_config


async def test_stalled_model_is_ended_by_the_watchdog(
    short_watchdog: dict[str, Any], jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    stream = await open_stream()
    sid = "fault-stall-1"
    stream.subscribe(sid)
    await api.prompt(sid, "[[stall:5:8]] hang")
    ended = (await stream.until(final(sid), timeout=60))[-1]["message"]
    assert ended["status"] == "error" and "no word from opencode" in ended["error"]
    assert ended["content"] == text_of(stream.frames, sid)
    # opencode may queue the next prompt behind the stalled request: give it time to answer.
    _service(jp_serverapp).turn_timeout = 60.0
    text = "still there?"
    await api.prompt(sid, text)
    reply = (await stream.until(final(sid), timeout=60))[-1]["message"]
    assert reply["status"] == "complete", reply["error"]
    assert reply["content"] == expected_text(text)


def _cut_connections_to(port: int) -> int:
    """Shut down this process's TCP connections to ``port`` (opencode lives on)."""
    inodes = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    cut = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                sock = socket.socket(fileno=int(fd))
                sock.shutdown(socket.SHUT_RDWR)
                sock.detach()
                cut += 1
    return cut


async def test_cut_event_stream_catches_up_without_loss_or_doubling(
    jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    service = _service(jp_serverapp)
    stream = await open_stream()
    sid = "fault-sse-cut-1"
    stream.subscribe(sid)
    text = "[[slow:120:0.02]] keep going"
    await api.prompt(sid, text)
    await stream.until(lambda f: f.get("kind") == "text" and f["session_id"] == sid)
    port = int(service.supervisor.client.base_url.rsplit(":", 1)[1])
    assert _cut_connections_to(port) >= 1
    done = (await stream.until(final(sid), timeout=60))[-1]["message"]
    assert done["status"] == "complete"
    assert text_of(stream.frames, sid) == done["content"] == expected_text(text)
