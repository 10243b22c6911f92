"""Frame coalescing and the conversation mirror of the kernel side."""

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


def stored(conversation: Conversation) -> dict:
    """The conversation's copy of the message under test."""
    message = conversation.get(MID)
    assert message is not None
    return dict(message)


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


def frame_bytes(ops: list[dict]) -> int:
    return len(json.dumps({"type": "frame", "ops": ops}))


def test_5000_chunks_are_paced_compact_and_exact() -> None:
    rng = random.Random(7)
    words = ["the", "data", "frame", "column", "value", "index", "plot", "mean", "\n"]
    conversation = Conversation()
    arrivals, now, text = [], 0.0, []
    for seq in range(1, 5001):
        now += rng.uniform(0.0005, 0.0035)  # 300-2000 tokens/s: a fast model
        delta = rng.choice(words) + " "
        text.append(delta)
        arrivals.append((now, conversation.apply(chunk(seq, delta))))
    full = "".join(text)
    frames = simulate(arrivals)

    duration = frames[-1][0] - frames[0][0]
    per_second = Counter(int(t) for t, _ in frames)
    assert max(per_second.values()) <= 40
    assert len(frames) <= 40 * (duration + 1)
    # One placeholder message op at the start, then deltas only.
    ops = [op for _, f in frames for op in f]
    assert ops[0]["op"] == "message" and ops[0]["message"]["content"] == ""
    deltas = [op for op in ops[1:]]
    assert {op["op"] for op in deltas} == {"delta"}
    assert "".join(op["text"] for op in deltas) == full
    total = sum(frame_bytes(f) for _, f in frames)
    assert total <= 1.2 * len(full) + 400 + 100 * len(frames)
    assert stored(conversation)["content"] == full
    print(f"{len(frames)} frames in {duration:.2f} s, {total} bytes for {len(full)} chars")


def test_final_message_flushes_at_once() -> None:
    coalescer = FrameCoalescer(0.03)
    coalescer.push({"op": "delta", "id": MID, "kind": "text", "text": "a"})
    assert coalescer.delay(0.0) == 0
    coalescer.take(0.0)
    coalescer.push({"op": "delta", "id": MID, "kind": "text", "text": "b"})
    assert coalescer.delay(0.01) == pytest.approx(0.02)
    coalescer.push({"op": "message", "message": final_message("ab")})
    assert coalescer.delay(0.01) == 0
    assert [op["op"] for op in coalescer.take(0.01)] == ["delta", "message"]
    assert coalescer.delay(0.02) is None


def test_deltas_merge_per_kind_and_keep_order_around_other_ops() -> None:
    coalescer = FrameCoalescer()
    coalescer.take(0.0)
    for kind, text in [("reasoning", "r1"), ("text", "t1"), ("reasoning", "r2"), ("text", "t2")]:
        coalescer.push({"op": "delta", "id": MID, "kind": kind, "text": text})
    coalescer.push({"op": "tool", "id": MID, "tool": {"call_id": "c1", "status": "running"}})
    coalescer.push({"op": "delta", "id": MID, "kind": "text", "text": "t3"})
    ops = coalescer.take(0.05)
    assert [(op["op"], op.get("text")) for op in ops] == [
        ("delta", "r1r2"),
        ("delta", "t1t2"),
        ("tool", None),
        ("delta", "t3"),
    ]


def test_conversation_keeps_streamed_text_and_accepts_the_final_message() -> None:
    conversation = Conversation()
    ops = conversation.apply(chunk(1, "Hel"))
    assert [op["op"] for op in ops] == ["message", "delta"]
    # The POST answer's pending copy arrives after the first delta: it must not wipe it.
    pending = {**final_message(""), "status": "pending"}
    assert conversation.upsert(pending) == []
    conversation.apply(chunk(2, "lo"))
    conversation.apply(chunk(3, "think", kind="reasoning"))
    message = stored(conversation)
    assert message["content"] == "Hello"
    assert message["parts"] == [{"kind": "reasoning", "text": "think"}]
    ops = conversation.apply({"type": "message", "message": final_message("Hello")})
    settled = {k: v for k, v in final_message("Hello").items() if k != "content"}
    assert ops == [{"op": "message", "message": settled}]  # the streamed body is not resent
    assert stored(conversation)["content"] == "Hello"
    # A final text that differs from what streamed (a gap) is sent whole.
    other = Conversation()
    other.apply(chunk(1, "Hel"))
    assert other.apply({"type": "message", "message": final_message("Hello")}) == [
        {"op": "message", "message": final_message("Hello")}
    ]
    # A replayed chunk of a finished message changes nothing.
    assert conversation.apply(chunk(2, "lo")) == []
    assert conversation.upsert(pending) == []
    assert stored(conversation)["status"] == "complete"


def test_conversation_tools_and_permissions() -> None:
    conversation = Conversation()
    tool = {"call_id": "c1", "name": "bash", "status": "running"}
    conversation.apply({**chunk(1, ""), "kind": "tool", "tool": tool})
    conversation.apply({**chunk(2, ""), "kind": "tool", "tool": {**tool, "status": "completed"}})
    permission = {"id": "p1", "permission": "bash", "patterns": ["ls"], "metadata": {}}
    ops = conversation.apply({**chunk(3, ""), "kind": "permission", "permission": permission})
    assert ops == [{"op": "permission", "id": MID, "permission": permission}]
    parts = stored(conversation)["parts"]
    assert parts == [{"kind": "tool", **tool, "status": "completed"}]
    conversation.apply({"type": "message", "message": final_message("done")})
    # Once the message is final, a replayed permission prompt is not shown again.
    replayed = {**chunk(3, ""), "kind": "permission", "permission": permission}
    assert conversation.apply(replayed) == []


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
