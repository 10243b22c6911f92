"""Prompts over REST stream over the WebSocket, from the real opencode and the fake model."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

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


async def _timed(stream: StreamClient, sid: str) -> dict[str, float]:
    """Read frames until the session's final message; when each reply word arrived."""
    loop = asyncio.get_running_loop()
    arrivals: dict[str, float] = {}
    while not final(sid)(await stream.next()):
        frame = stream.frames[-1]
        if frame.get("kind") == "text" and "delta" in frame:
            for word in frame["delta"].split():
                arrivals.setdefault(word, loop.time())
    return arrivals


async def _answer_on_all(
    api: Api, sid: str, prompt: str, *clients: StreamClient
) -> list[dict[str, float]]:
    """Ask once; when each word reached each client (until the final message); close them."""
    try:
        await api.prompt(sid, prompt)
        return list(await asyncio.gather(*(_timed(client, sid) for client in clients)))
    finally:
        for client in clients:
            client.close()


async def _open_at(jp_ws_fetch: Any, cadence: str) -> StreamClient:
    """A stream socket opened with ``?cadence_ms=``, past its first frame."""
    client = StreamClient(await jp_ws_fetch("opencode", "stream", params={"cadence_ms": cadence}))
    assert (await client.next())["type"] == "connected"
    return client


async def test_deltas_go_at_the_client_cadence(
    api: Api, open_stream: Opener, jp_ws_fetch: Any
) -> None:
    sid = "session-cadence-1"
    clients = [await _open_at(jp_ws_fetch, cadence) for cadence in ("250", "0")]
    paced, plain = clients
    paced.subscribe(sid)
    plain.subscribe(sid)
    prompt = "[[slow:150:0.01]] cadence"
    seen, heard = await _answer_on_all(api, sid, prompt, paced, plain)
    expected = expected_text(prompt)
    assert text_of(paced.frames, sid) == text_of(plain.frames, sid) == expected
    assert paced.frames[-1] == plain.frames[-1]
    # Merged: one text frame per 250 ms of streaming at most (plus the first and the last).
    texts = [f for f in paced.frames if f.get("kind") == "text"]
    span = max(seen.values()) - min(seen.values())
    assert len(texts) <= span / 0.25 + 3, (len(texts), span)
    # Bounded: no word waits much longer than one interval beyond the uncoalesced client.
    assert set(seen) == set(heard)
    late = max(seen[word] - heard[word] for word in seen)
    assert late < 0.25 + 0.3, late
    seqs = [f["seq"] for f in paced.frames if "seq" in f]
    assert seqs == sorted(set(seqs))

    # A client that saw up to a merged frame resumes from its seq and misses nothing.
    cut = next(f for f in texts[len(texts) // 2 :] if len(f["delta"].split()) > 1)
    resumed = await open_stream()
    resumed.subscribe(sid, after_seq=cut["seq"])
    rest = await resumed.until(final(sid))
    before = paced.frames[: paced.frames.index(cut) + 1]
    assert text_of(before, sid) + text_of(rest, sid) == expected
    assert rest[0]["seq"] == cut["seq"] + 1 and rest[-1] == paced.frames[-1]


async def test_a_cadence_frame_changes_an_open_socket_cadence(api: Api, jp_ws_fetch: Any) -> None:
    sid = "session-cadence-2"
    clients = []
    # Each socket opens at one cadence and asks for the other: the frame is what counts.
    for opened, asked in (("0", 250), ("250", 0)):
        clients.append(await _open_at(jp_ws_fetch, opened))
        clients[-1].send(type="cadence", cadence_ms=asked)
        clients[-1].subscribe(sid)
    slowed, quickened = clients
    prompt = "[[slow:150:0.01]] cadence frame"
    seen, _ = await _answer_on_all(api, sid, prompt, slowed, quickened)
    assert text_of(slowed.frames, sid) == text_of(quickened.frames, sid) == expected_text(prompt)
    texts = [len([f for f in c.frames if f.get("kind") == "text"]) for c in clients]
    span = max(seen.values()) - min(seen.values())
    assert texts[0] <= span / 0.25 + 3 < texts[1], (texts, span)


async def test_bad_cadence_is_400(jp_ws_fetch: Any) -> None:
    for value in ("fast", "-1", "1001"):
        with pytest.raises(HTTPClientError) as error:
            await jp_ws_fetch("opencode", "stream", params={"cadence_ms": value})
        assert error.value.code == 400
