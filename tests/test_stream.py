"""Prompts over REST stream over the WebSocket, from the real opencode and the fake model."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import expected_text

from .streams import Api, Opener, StreamClient, final, text_of


def final_frame(frames: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    """The final message of the answer in ``frames``."""
    return next(f["message"] for f in reversed(frames) if final(sid)(f))


def _opencode_children() -> list[int]:
    """``opencode serve`` processes started by this test process."""
    me = str(os.getpid())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        argv = cmdline.split(b"\0")
        if fields[1] == me and b"serve" in argv and Path(argv[0].decode()).name == "opencode":
            found.append(int(stat.parent.name))
    return found


async def test_no_worker_at_server_start(api: Api) -> None:
    code, status = await api.call("GET", "status")
    assert code == 200
    assert status["worker"] == {
        "state": "stopped", "pid": None, "version": None, "restarts": 0, "error": None,
        "permissions": None,
    }  # fmt: skip
    assert _opencode_children() == []


async def test_prompt_streams_exact_reply(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-stream-1"
    stream.subscribe(sid)
    text = "Why does my cell fail?"
    accepted = await api.prompt(sid, text)
    assert accepted["assistant_message"]["status"] == "pending"
    assert accepted["session"]["id"] == sid
    frames = await stream.until(final(sid))
    assert text_of(frames, sid) == expected_text(text)
    seqs = [f["seq"] for f in frames if "seq" in f]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    messages = await api.messages(sid)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["status"] == "complete"
    assert messages[1]["content"] == expected_text(text)
    assert messages[0]["content"] == text
    # Asked without a model: the answer records the one opencode used (its default).
    assert messages[1]["model"] and messages[1]["model"] == final_frame(frames, sid)["model"]
    _, status = await api.call("GET", "status")
    assert status["worker"]["state"] == "ready" and status["worker"]["version"]


async def test_two_sessions_concurrently_and_replay(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    first, second = "session-con-a", "session-con-b"
    stream.subscribe(first)
    stream.subscribe(second)
    prompts = {first: "[[slow:12:0.02]] first", second: "[[slow:15:0.02]] second"}
    await asyncio.gather(*(api.prompt(sid, text) for sid, text in prompts.items()))
    frames = await _both_final(stream, first, second)
    for sid, text in prompts.items():
        assert text_of(frames, sid) == expected_text(text)

    # A second client that saw frames up to seq n gets exactly the rest: the same text, the
    # same final message, nothing twice (a client that falls behind may get deltas merged).
    chunks = [f for f in frames if f["session_id"] == first and "seq" in f]
    cut = chunks[len(chunks) // 2]["seq"]
    late = await open_stream()
    late.subscribe(first, after_seq=cut)
    replayed = await late.until(final(first))
    rest = [f for f in chunks if f["seq"] > cut]
    seqs = [f["seq"] for f in replayed]
    assert seqs == sorted(set(seqs)) and seqs[0] > cut and seqs[-1] == rest[-1]["seq"]
    assert text_of(replayed, first) == text_of(rest, first)
    assert replayed[-1] == rest[-1]
    assert {f["seq"] for f in rest} <= set(seqs)


async def _both_final(stream: StreamClient, *sids: str) -> list[dict[str, Any]]:
    pending = set(sids)
    frames: list[dict[str, Any]] = []
    while pending:
        frame = await stream.next()
        frames.append(frame)
        for sid in list(pending):
            if final(sid)(frame):
                pending.discard(sid)
    return frames
