"""The agent's plan (opencode's todowrite tool): todo frames, stored with the answer, one route."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .streams import Api, Opener, ask


def todowrite(*items: tuple[str, str]) -> str:
    """A fake-model directive writing the whole todo list."""
    todos = [
        {"id": str(i), "content": content, "status": status, "priority": "high"}
        for i, (content, status) in enumerate(items)
    ]
    return f"[[call todowrite {json.dumps({'todos': todos})}]]"


def plan(*items: tuple[str, str]) -> list[dict[str, Any]]:
    """The plan as the server keeps it."""
    return [{"content": c, "status": s, "priority": "high"} for c, s in items]


async def test_the_plan_streams_is_stored_and_outlives_later_answers(
    api: Api, open_stream: Opener
) -> None:
    sid = f"plan-{uuid.uuid4().hex[:8]}"
    first = (("Load the data", "in_progress"), ("Plot it", "pending"))
    then = (("Load the data", "completed"), ("Plot it", "in_progress"))
    stream = await open_stream()
    frames, answer = await ask(api, stream, sid, f"{todowrite(*first)} {todowrite(*then)}", [])
    assert frames[-1]["message"]["id"] == answer["id"]
    todos = [f["todos"] for f in stream.frames if f.get("kind") == "todo"]
    assert todos == [plan(*first), plan(*then)]
    assert answer["parts"][0] == {"kind": "todo", "todos": plan(*then)}

    code, body = await api.call("GET", "sessions", sid, "todo")
    assert code == 200 and body == {"todos": plan(*then)}
    stored = [m for m in await api.messages(sid) if m["id"] == answer["id"]]
    assert stored[0]["parts"][0]["todos"] == plan(*then)
    await api.ask(sid, "no plan this time")
    code, body = await api.call("GET", "sessions", sid, "todo")
    assert code == 200 and body == {"todos": plan(*then)}


async def test_no_plan_is_an_empty_list_and_unknown_sessions_404(api: Api) -> None:
    await api.ask("plan-none-1", "hello")
    code, body = await api.call("GET", "sessions", "plan-none-1", "todo")
    assert code == 200 and body == {"todos": []}
    code, body = await api.call("GET", "sessions", "plan-none-2", "todo")
    assert (code, body["reason"]) == (404, "unknown_session")
    code, body = await api.call("GET", "sessions", "bad id!", "todo")
    assert code == 400
