"""Session counters: tokens and cost as opencode's message info reports them."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_opencode.server.turn import Turn

DATA = Path(__file__).parent / "data"


def test_tokens_add_up_over_the_steps_of_one_answer() -> None:
    """A tool call makes two assistant messages; the answer's tokens are both infos' totals."""
    lines = (DATA / "opencode-events-tool.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    last_info: dict[str, dict[str, int]] = {}
    for event in events:
        info = event["properties"].get("info") or {}
        if event["type"] == "message.updated" and info.get("role") == "assistant":
            last_info[info["id"]] = info["tokens"]
    expected = sum(t["input"] + t["output"] for t in last_info.values())
    assert len(last_info) == 2 and expected > 0

    turn = Turn(session_id="session-count", message_id="m1", model=None, next_seq=0)
    turn.prompted_ms = 0  # the recording is older than this test
    for event in events:
        turn.handle(event)
    final = turn.final_message("complete")
    assert final["tokens"] == expected and final["cost"] == 0.0
