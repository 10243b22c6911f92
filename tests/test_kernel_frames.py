"""Coalescing the frames the kernel forwards to the panel, and the kernel's conversation copy."""

from __future__ import annotations

import heapq
import json
import random
from collections import Counter

import pytest

from jupyter_opencode.kernel.conversation import Conversation
from jupyter_opencode.kernel.frames import FrameCoalescer

MID = "msg_0123456789abcdef"


def chunk(seq: int, delta: str, kind: str = "text", message_id: str = MID) -> dict:
    return {
        "type": "chunk",
        "session_id": "s" * 32,
        "message_id": message_id,
        "seq": seq,
        "kind": kind,
        "delta": delta,
    }


def final_message(text: str) -> dict:
    return {"id": MID, "role": "assistant", "status": "complete", "content": text, "parts": []}


def simulate(arrivals: list[tuple[float, list[dict]]], interval: float = 0.03) -> list[tuple]:
    """Run a coalescer like the widget does (flush when due, else a timer); return frames."""
    coalescer = FrameCoalescer(interval)
    frames: list[tuple[float, list[dict]]] = []
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


def frame_bytes(frames: list[dict]) -> int:
    return len(json.dumps({"type": "frames", "frames": frames}))


def test_5000_chunks_are_paced_compact_and_exact() -> None:
    rng = random.Random(7)
    words = ["the", "data", "frame", "column", "value", "index", "plot", "mean", "\n"]
    conversation = Conversation()
    arrivals, now, text = [], 0.0, []
    for seq in range(1, 5001):
        now += rng.uniform(0.0005, 0.0035)  # 300-2000 tokens/s: a fast model
        delta = rng.choice(words) + " "
        text.append(delta)
        arrivals.append((now, [conversation.apply(chunk(seq, delta))]))
    full = "".join(text)
    frames = simulate(arrivals)

    duration = frames[-1][0] - frames[0][0]
    per_second = Counter(int(t) for t, _ in frames)
    assert max(per_second.values()) <= 40
    assert len(frames) <= 40 * (duration + 1)
    # Text chunks only, merged, in seq order, ending at the last seq.
    forwarded = [f for _, batch in frames for f in batch]
    assert {(f["type"], f["kind"]) for f in forwarded} == {("chunk", "text")}
    seqs = [f["seq"] for f in forwarded]
    assert seqs == sorted(seqs) and seqs[-1] == 5000
    assert "".join(f["delta"] for f in forwarded) == full
    total = sum(frame_bytes(f) for _, f in frames)
    # A forwarded chunk names its session, message, seq and kind: about 170 bytes a batch.
    assert total <= 1.2 * len(full) + 400 + 200 * len(frames)
    assert conversation.get(MID)["content"] == full
    print(f"{len(frames)} frames in {duration:.2f} s, {total} bytes for {len(full)} chars")


def message_frame(message: dict) -> dict:
    return {"type": "message", "session_id": "s" * 32, "message": message}


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


def test_only_consecutive_chunks_merge_so_seqs_stay_in_order() -> None:
    coalescer = FrameCoalescer()
    coalescer.take(0.0)
    sent = [
        chunk(1, "r1", "reasoning"),
        chunk(2, "r2", "reasoning"),
        chunk(3, "t1"),
        chunk(4, "t2"),
    ]
    tool = {**chunk(5, ""), "kind": "tool", "tool": {"call_id": "c1", "status": "running"}}
    for frame in [*sent, tool, chunk(6, "t3"), chunk(7, "x", message_id="other")]:
        coalescer.push(frame)
    frames = coalescer.take(0.05)
    assert [(f["kind"], f.get("delta"), f["seq"]) for f in frames] == [
        ("reasoning", "r1r2", 2),
        ("text", "t1t2", 4),
        ("tool", "", 5),
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
    message = conversation.get(MID)
    assert message["content"] == "Hello"
    assert message["parts"] == [{"kind": "reasoning", "text": "think"}]
    forwarded = conversation.apply({**message_frame(final_message("Hello")), "seq": 4})
    settled = {k: v for k, v in final_message("Hello").items() if k != "content"}
    assert forwarded is not None and forwarded["message"] == settled  # the body is not resent
    assert conversation.get(MID)["content"] == "Hello"
    # A final text that differs from what streamed (a gap) is sent whole.
    other = Conversation()
    other.apply(chunk(1, "Hel"))
    forwarded = other.apply(message_frame(final_message("Hello")))
    assert forwarded is not None and forwarded["message"] == final_message("Hello")
    # A replayed frame changes nothing, nor a late pending copy of a finished message.
    assert conversation.apply(chunk(2, "lo")) is None
    assert conversation.apply(message_frame(pending)) is None
    assert conversation.get(MID)["status"] == "complete"
    assert conversation.seq == 4


def test_conversation_tools_permissions_and_rewinds() -> None:
    conversation = Conversation()
    tool = {"call_id": "c1", "name": "bash", "status": "running"}
    conversation.apply({**chunk(1, ""), "kind": "tool", "tool": tool})
    conversation.apply({**chunk(2, ""), "kind": "tool", "tool": {**tool, "status": "completed"}})
    permission = {"id": "p1", "permission": "bash", "patterns": ["ls"], "metadata": {}}
    asked = {**chunk(3, ""), "kind": "permission", "permission": permission}
    assert conversation.apply(asked) == asked
    parts = conversation.get(MID)["parts"]
    assert parts == [{"kind": "tool", **tool, "status": "completed"}]
    conversation.apply(message_frame(final_message("done")))
    # Once the message is final, a permission prompt (not a replay by seq) is not shown again.
    assert conversation.apply({**asked, "seq": 4}) is None
    rewind = {"type": "rewind", "session_id": "s", "removed": [MID], "notebook_changes": []}
    assert conversation.apply({**rewind, "seq": 5}) is not None
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
    assert conversation.get(MID)["content"] == ""
    assert conversation.get(MID)["parts"] == [{"kind": "tool", "call_id": "c1"}]
