"""Coalescing the frames the kernel forwards to the panel, and the kernel's conversation copy."""

from __future__ import annotations

import heapq
import json
import random
from collections import Counter
from typing import Any

import pytest

from jupyter_opencode.kernel.conversation import Conversation, Message
from jupyter_opencode.kernel.frames import FrameCoalescer
from jupyter_opencode.server.protocol import (
    ChunkFrame,
    MessageFrame,
    ServerFrame,
    chunk_frame,
    rewind_frame,
    text_chunk,
)

MID = "msg_0123456789abcdef"
SID = "s" * 32


def chunk(seq: int, delta: str, kind: str = "text", message_id: str = MID) -> ChunkFrame:
    return text_chunk(SID, message_id, kind, delta, seq)


def event(seq: int, kind: str, **fields: Any) -> ChunkFrame:
    """A tool or permission chunk of the answer."""
    return chunk_frame(SID, MID, {"seq": seq, "kind": kind, **fields})


def final_message(text: str) -> Message:
    return {"id": MID, "role": "assistant", "status": "complete", "content": text, "parts": []}


def stored(conversation: Conversation, message_id: str = MID) -> Message:
    """A message the conversation holds."""
    message = conversation.get(message_id)
    assert message is not None
    return message


def simulate(
    arrivals: list[tuple[float, list[ServerFrame]]], interval: float = 0.03
) -> list[tuple[float, list[ServerFrame]]]:
    """Run a coalescer like the widget does (flush when due, else a timer); return frames."""
    coalescer = FrameCoalescer(interval)
    frames: list[tuple[float, list[ServerFrame]]] = []
    timers: list[float] = []
    events = [(t, 1, i) for i, (t, _) in enumerate(arrivals)]
    heapq.heapify(events)
    timer_pending = False
    while events:
        now, kind, index = heapq.heappop(events)
        if kind == 1:
            for op in arrivals[index][1]:
                coalescer.push(op)
        else:
            timer_pending = False
        delay = coalescer.delay(now)
        if delay is None:
            continue
        if delay == 0:
            frames.append((now, coalescer.take(now)))
        elif not timer_pending:
            timer_pending = True
            timers.append(now + delay)
            heapq.heappush(events, (now + delay, 0, -1))
    return frames


def frame_bytes(frames: list[ServerFrame]) -> int:
    return len(json.dumps({"type": "frames", "frames": frames}))


def test_5000_chunks_are_paced_compact_and_exact() -> None:
    rng = random.Random(7)
    words = ["the", "data", "frame", "column", "value", "index", "plot", "mean", "\n"]
    conversation = Conversation()
    arrivals: list[tuple[float, list[ServerFrame]]] = []
    now, text = 0.0, []
    for seq in range(1, 5001):
        now += rng.uniform(0.0005, 0.0035)  # 300-2000 tokens/s: a fast model
        delta = rng.choice(words) + " "
        text.append(delta)
        applied = conversation.apply(chunk(seq, delta))
        assert applied is not None
        arrivals.append((now, [applied]))
    full = "".join(text)
    frames = simulate(arrivals)

    duration = frames[-1][0] - frames[0][0]
    per_second = Counter(int(t) for t, _ in frames)
    assert max(per_second.values()) <= 40
    assert len(frames) <= 40 * (duration + 1)
    # Text chunks only, merged, in seq order, ending at the last seq.
    forwarded = [f for _, batch in frames for f in batch if f["type"] == "chunk"]
    assert len(forwarded) == sum(len(batch) for _, batch in frames)
    assert {f["kind"] for f in forwarded} == {"text"}
    seqs = [f["seq"] for f in forwarded]
    assert seqs == sorted(seqs) and seqs[-1] == 5000
    assert "".join(f["delta"] for f in forwarded) == full
    total = sum(frame_bytes(f) for _, f in frames)
    # A forwarded chunk names its session, message, seq and kind: about 170 bytes a batch.
    assert total <= 1.2 * len(full) + 400 + 200 * len(frames)
    assert stored(conversation)["content"] == full
    print(f"{len(frames)} frames in {duration:.2f} s, {total} bytes for {len(full)} chars")


def message_frame(message: Message, seq: int | None = None) -> MessageFrame:
    frame: MessageFrame = {"type": "message", "session_id": SID, "message": message}
    if seq is not None:
        frame["seq"] = seq
    return frame


def test_final_message_flushes_at_once() -> None:
    coalescer = FrameCoalescer(0.03)
    coalescer.push(chunk(1, "a"))
    assert coalescer.delay(0.0) == 0
    coalescer.take(0.0)
    coalescer.push(chunk(2, "b"))
    assert coalescer.delay(0.01) == pytest.approx(0.02)
    coalescer.push(message_frame(final_message("ab")))
    assert coalescer.delay(0.01) == 0
    assert [f["type"] for f in coalescer.take(0.01)] == ["chunk", "message"]
    assert coalescer.delay(0.02) is None


def test_the_panel_cadence_sets_the_pace_within_bounds() -> None:
    coalescer = FrameCoalescer(0.04)
    coalescer.push(chunk(1, "a"))
    coalescer.take(0.0)
    assert coalescer.pace(100)
    coalescer.push(chunk(2, "b"))
    assert coalescer.delay(0.01) == pytest.approx(0.09)
    for bad in (-1, 1001, 40.5, "40", True, None):
        assert not coalescer.pace(bad)
    assert coalescer.delay(0.01) == pytest.approx(0.09)
    assert coalescer.pace(0) and coalescer.delay(0.01) == 0


def test_only_consecutive_chunks_merge_so_seqs_stay_in_order() -> None:
    coalescer = FrameCoalescer()
    coalescer.take(0.0)
    sent = [
        chunk(1, "r1", "reasoning"),
        chunk(2, "r2", "reasoning"),
        chunk(3, "t1"),
        chunk(4, "t2"),
    ]
    tool = event(5, "tool", tool={"call_id": "c1", "status": "running"})
    for frame in [*sent, tool, chunk(6, "t3"), chunk(7, "x", message_id="other")]:
        coalescer.push(frame)
    frames = coalescer.take(0.05)
    assert [(f["kind"], f.get("delta"), f["seq"]) for f in frames if f["type"] == "chunk"] == [
        ("reasoning", "r1r2", 2),
        ("text", "t1t2", 4),
        ("tool", None, 5),
        ("text", "t3", 6),
        ("text", "x", 7),
    ]
    assert sent[0]["delta"] == "r1"  # the caller's frames are left as they were


def test_conversation_keeps_streamed_text_and_accepts_the_final_message() -> None:
    conversation = Conversation()
    assert conversation.apply(chunk(1, "Hel")) == chunk(1, "Hel")
    # The POST answer's pending copy arrives after the first delta: it must not wipe it.
    pending = {**final_message(""), "status": "pending"}
    conversation.upsert(pending)
    conversation.apply(chunk(2, "lo"))
    conversation.apply(chunk(3, "think", kind="reasoning"))
    message = stored(conversation)
    assert message["content"] == "Hello"
    assert message["parts"] == [{"kind": "reasoning", "text": "think"}]
    forwarded = conversation.apply(message_frame(final_message("Hello"), seq=4))
    settled = {k: v for k, v in final_message("Hello").items() if k != "content"}
    assert forwarded is not None and forwarded["type"] == "message"
    assert forwarded["message"] == settled  # the body is not resent
    assert stored(conversation)["content"] == "Hello"
    # A final text that differs from what streamed (a gap) is sent whole.
    other = Conversation()
    other.apply(chunk(1, "Hel"))
    forwarded = other.apply(message_frame(final_message("Hello")))
    assert forwarded is not None and forwarded["type"] == "message"
    assert forwarded["message"] == final_message("Hello")
    # A replayed frame changes nothing, nor a late pending copy of a finished message.
    assert conversation.apply(chunk(2, "lo")) is None
    assert conversation.apply(message_frame(pending)) is None
    assert stored(conversation)["status"] == "complete"
    assert conversation.seq == 4


def test_conversation_tools_permissions_and_rewinds() -> None:
    conversation = Conversation()
    tool = {"call_id": "c1", "name": "bash", "status": "running"}
    conversation.apply(event(1, "tool", tool=tool))
    conversation.apply(event(2, "tool", tool={**tool, "status": "completed"}))
    permission = {"id": "p1", "permission": "bash", "patterns": ["ls"], "metadata": {}}
    asked = event(3, "permission", permission=permission)
    assert conversation.apply(asked) == asked
    parts = stored(conversation)["parts"]
    assert parts == [{"kind": "tool", **tool, "status": "completed"}]
    conversation.apply(message_frame(final_message("done")))
    # Once the message is final, a permission prompt (not a replay by seq) is not shown again.
    assert conversation.apply(event(4, "permission", permission=permission)) is None
    assert conversation.apply(rewind_frame("s", [MID], [], seq=5)) is not None
    assert conversation.messages == [] and not conversation.remove([MID])


def test_clear_in_flight_empties_only_unfinished_bodies() -> None:
    conversation = Conversation()
    done = {**final_message("old answer"), "id": "m-done"}
    live = {
        **final_message("partial"),
        "status": "streaming",
        "parts": [{"kind": "reasoning", "text": "hm"}, {"kind": "tool", "call_id": "c1"}],
    }
    conversation.reset([done, live], False)
    conversation.clear_in_flight()
    assert conversation.get("m-done") == done
    assert stored(conversation)["content"] == ""
    assert stored(conversation)["parts"] == [{"kind": "tool", "call_id": "c1"}]
