"""Load: 20 sessions streaming at once, each from its own client, beside 50 idle subscribers."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from jupyter_opencode.testing import expected_text

from .streams import Api, Opener, StreamClient, final, text_of, time_limit

STREAMING = 20
IDLE = 50
CHUNKS = 60


def _service(app: Any) -> Any:
    return app.web_app.settings["jupyter_opencode_service"]


async def _answer(client: StreamClient, sid: str, text: str) -> float:
    """Prompt over the client's own socket; seconds until its final message."""
    started = time.perf_counter()
    client.send(type="prompt", session_id=sid, text=text)
    frames = await client.until(final(sid), timeout=240)
    assert frames[-1]["message"]["status"] == "complete", frames[-1]["message"]["error"]
    return time.perf_counter() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def test_twenty_streams_and_fifty_idle_subscribers(
    jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    idle = [await open_stream() for _ in range(IDLE)]
    for index, client in enumerate(idle):
        client.subscribe(f"load-idle-{index:03d}")
    solo = await open_stream()
    solo.subscribe("load-solo-0")
    await _answer(solo, "load-solo-0", "warm the worker up")
    text = f"[[long:{CHUNKS}]] alone"
    single = await _answer(solo, "load-solo-0", text)
    assert text_of(solo.frames, "load-solo-0").endswith(expected_text(text))

    clients = [await open_stream() for _ in range(STREAMING)]
    sids = [f"load-stream-{i:03d}" for i in range(STREAMING)]
    for client, sid in zip(clients, sids, strict=True):
        client.subscribe(sid)
    texts = [f"[[long:{CHUNKS}]] session {i}" for i in range(STREAMING)]
    durations = await asyncio.gather(
        *(_answer(c, s, t) for c, s, t in zip(clients, sids, texts, strict=True))
    )
    for client, sid, prompt in zip(clients, sids, texts, strict=True):
        assert {f["session_id"] for f in client.frames if "session_id" in f} == {sid}
        assert text_of(client.frames, sid) == expected_text(prompt)
        stored = [m for m in await api.messages(sid) if m["role"] == "assistant"]
        assert [m["content"] for m in stored] == [expected_text(prompt)]
    for client in idle:
        assert [f["type"] for f in client.frames] == ["connected"]
    p50 = statistics.median(durations) / single
    p99 = _percentile(durations, 0.99) / single
    print(
        f"\nload: single answer {single:.2f} s; {STREAMING} at once beside {IDLE} idle"
        f" subscribers: p50 {p50:.2f}x, p99 {p99:.2f}x of the single answer"
    )

    for client in [*idle, *clients, solo]:
        client.close()
    service = _service(jp_serverapp)
    async with time_limit(10):
        while service._subscribers:
            await asyncio.sleep(0.05)
    _assert_nothing_left(service)


async def test_state_stays_bounded_over_many_prompts(
    jp_serverapp: Any, api: Api, open_stream: Opener
) -> None:
    """Every per-answer and per-subscriber map empties again: nothing only grows."""
    service = _service(jp_serverapp)
    sizes = []
    for round_ in range(3):
        client = await open_stream()
        for index in range(4):
            sid = f"bounded-{index}"
            code, page = await api.call("GET", "sessions", sid, "messages", limit="1")
            client.subscribe(sid, after_seq=page["last_seq"] if code == 200 else 0)
            await _answer(client, sid, f"round {round_} prompt {index}")
        client.close()
        async with time_limit(10):
            while service._subscribers:
                await asyncio.sleep(0.05)
        _assert_nothing_left(service)
        sizes.append(len(service._tasks._tasks) + len(service.supervisor._tasks._tasks))
    assert max(sizes) <= sizes[0] + 2, sizes


def _assert_nothing_left(service: Any) -> None:
    """No answer, subscriber, replay, seq floor or pending write is still held."""
    assert service.turns == {} and service._by_opencode == {}
    assert service._subscribers == {} and service._replaying == {}
    assert service._seq_floor == {}
    assert service.writer._rows == [] and service.writer._progress == {}
