"""Translating events recorded from the real opencode 1.18.33 into our chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_opencode.server.turn import Chunk, Turn

DATA = Path(__file__).parent / "data"


def _events(name: str) -> list[dict[str, Any]]:
    lines = (DATA / f"opencode-events-{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _turn() -> Turn:
    turn = Turn(session_id="session-turn", message_id="m1", model=None, next_seq=0)
    turn.prompted_ms = 0  # the recordings are older than this test
    return turn


def _play(turn: Turn, events: list[dict[str, Any]]) -> tuple[list[Chunk], bool]:
    chunks: list[Chunk] = []
    for event in events:
        produced, ended = turn.handle(event)
        chunks += produced
        if ended:
            return chunks, True
    return chunks, False


def _final_parts(events: list[dict[str, Any]], kind: str) -> str:
    """The full text opencode itself stored for the parts of one kind, in order."""
    assistant = {
        e["properties"]["info"]["id"]
        for e in events
        if e["type"] == "message.updated" and e["properties"]["info"]["role"] == "assistant"
    }
    parts: dict[str, str] = {}
    for event in events:
        part = event["properties"].get("part") or {}
        if part.get("type") == kind and part["messageID"] in assistant and part["text"]:
            parts[part["id"]] = part["text"]
    return "\n\n".join(parts.values()) if kind == "text" else "".join(parts.values())


def test_reasoning_and_text_are_told_apart() -> None:
    events = _events("reasoning")
    turn = _turn()
    chunks, ended = _play(turn, events)
    assert ended and turn.final_status() == "complete"
    reasoning = "".join(c["delta"] for c in chunks if c["kind"] == "reasoning")
    text = "".join(c["delta"] for c in chunks if c["kind"] == "text")
    assert reasoning == _final_parts(events, "reasoning") and reasoning
    assert text == turn.text == _final_parts(events, "text")
    assert turn.parts()[0] == {"kind": "reasoning", "text": reasoning}
    assert turn.model == "fake/echo-1" and turn.tokens > 0
    # The status line says what streams: thinking over the reasoning, writing over the text.
    shown = [(c["kind"], c.get("status")) for c in chunks if c["kind"] in ("status", "text")]
    first_text = shown.index(("text", None))
    assert shown[first_text - 1] == ("status", "writing")
    assert ("status", "thinking") in shown[:first_text]


def test_tool_with_permission_spans_two_assistant_messages() -> None:
    events = _events("tool")
    turn = _turn()
    chunks, ended = _play(turn, events)
    assert ended and turn.final_status() == "complete"
    asked = [c for c in chunks if c["kind"] == "permission"]
    assert len(asked) == 1 and asked[0]["permission"]["permission"] == "bash"
    statuses = [c["tool"]["status"] for c in chunks if c["kind"] == "tool"]
    assert statuses[0] == "pending" and statuses[-1] == "completed"
    assert "tool-ok" in turn.text  # the text of the second assistant message
    assert turn.permissions == set()
    assert [p["kind"] for p in turn.parts()] == ["tool", "usage"]


def test_rejected_tool_ends_with_the_tool_in_error() -> None:
    turn = _turn()
    chunks, ended = _play(turn, _events("tool-reject"))
    assert ended
    tool = [c["tool"] for c in chunks if c["kind"] == "tool"][-1]
    assert tool["status"] == "error" and "rejected" in tool["error"]


def test_abort_keeps_the_streamed_text() -> None:
    events = _events("slow-abort")
    turn = _turn()
    chunks, ended = _play(turn, events)
    assert ended and turn.final_status() == "aborted"
    streamed = "".join(c["delta"] for c in chunks if c["kind"] == "text")
    assert streamed and turn.text == streamed


def test_resync_after_a_gap_catches_up_from_stored_messages() -> None:
    events = _events("tool")
    turn = _turn()
    first_part = next(i for i, e in enumerate(events) if e["type"] == "permission.asked")
    _play(turn, events[:first_part])  # the stream broke off here
    stored = json.loads((DATA / "opencode-messages-tool.json").read_text())
    chunks, ended = turn.resync(stored)
    assert ended
    assert turn.text == _final_parts(events, "text")
    assert "".join(c["delta"] for c in chunks if c["kind"] == "text") == turn.text
    again, _ = turn.resync(stored)
    assert [c for c in again if c["kind"] == "text"] == []  # nothing twice


def test_events_of_older_messages_are_ignored() -> None:
    turn = Turn(session_id="session-turn", message_id="m1", model=None, next_seq=0)
    turn.prompting()  # now: every recorded message is older, e.g. the copies made by a fork
    chunks, _ = _play(turn, _events("reasoning"))
    assert [c for c in chunks if c["kind"] in ("text", "reasoning")] == []


def test_usage_is_the_context_window_of_the_latest_step() -> None:
    events = _events("tool")
    turn = _turn()
    turn.limits = {"fake/echo-1": 10_000}
    chunks, _ = _play(turn, events)
    usage = [c["usage"] for c in chunks if c["kind"] == "usage"]
    last = [
        e["properties"]["info"]["tokens"]
        for e in events
        if e["type"] == "message.updated" and e["properties"]["info"].get("tokens")
    ][-1]
    window = last["input"] + last["output"] + last["reasoning"] + sum(last["cache"].values())
    assert len(usage) >= 2 and usage[-1] == {"tokens": window, "limit": 10_000, "cost": turn.cost}
    assert turn.parts()[-1] == {"kind": "usage", **usage[-1]}


def test_a_summary_opencode_writes_on_its_own_is_not_part_of_the_answer() -> None:
    turn = _turn()
    user = {"id": "u1", "role": "user", "sessionID": "s", "time": {"created": 1}}
    summary = {"id": "a1", "role": "assistant", "parentID": "u1", "summary": True, "time": {}}
    text = {
        "id": "p1",
        "messageID": "a1",
        "type": "text",
        "text": "the summary",
        "time": {"end": 2},
    }
    chunks, _ = _play(
        turn,
        [
            {"type": "message.updated", "properties": {"info": user}},
            {"type": "message.updated", "properties": {"info": summary}},
            {"type": "message.part.updated", "properties": {"part": text}},
        ],
    )
    assert chunks == [] and turn.text == ""


def test_paths_show_relative_to_the_jupyter_root() -> None:
    """Outside a git repository opencode's paths are relative to ``/``: shown from the root."""
    events = _events("tool")
    turn = Turn(
        session_id="session-turn", message_id="m1", model=None, next_seq=0, root="/srv/work"
    )
    turn.prompted_ms = 0
    _play(turn, events[:8])  # up to the answer's first tool part: its message is ours
    message = events[7]["properties"]["part"]["messageID"]

    def tool(name: str, title: str) -> str:
        state = {"status": "completed", "title": title, "input": {}}
        part = {"id": f"prt_{name}", "messageID": message, "type": "tool", "tool": name,
                "callID": f"call_{name}", "state": state}  # fmt: skip
        chunks, _ = turn.handle({"type": "message.part.updated", "properties": {"part": part}})
        return str(chunks[0]["tool"]["title"])

    def asked(permission: str, patterns: list[str]) -> list[str]:
        props = {"id": f"per_{permission}", "permission": permission, "patterns": patterns}
        chunks, _ = turn.handle({"type": "permission.asked", "properties": props})
        return list(chunks[0]["permission"]["patterns"])

    assert tool("edit", "srv/work/data/report.txt") == "data/report.txt"
    assert tool("write", "etc/elsewhere.txt") == "etc/elsewhere.txt"  # not under the root
    assert tool("bash", "srv/work/script.sh") == "srv/work/script.sh"  # a command, not a path
    assert asked("edit", ["srv/work/made.py", "/abs/other.py"]) == ["made.py", "/abs/other.py"]
    assert asked("bash", ["srv/work/run.sh *"]) == ["srv/work/run.sh *"]
