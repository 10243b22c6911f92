"""The context window of a session (the demo model's small limit) and compaction."""

from __future__ import annotations

import json
import uuid

from jupyter_opencode.demo.config import CONTEXT_LIMIT
from jupyter_opencode.testing import FakeModelProcess

from .streams import Api, Opener, ask, final


async def test_context_is_counted_and_compaction_goes_on_from_the_summary(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    sid = f"compact-{uuid.uuid4().hex[:8]}"
    stream = await open_stream()
    _, answer = await ask(api, stream, sid, "remember the zebrafish tank count", [])
    usage = [f["usage"] for f in stream.frames if f.get("kind") == "usage"]
    assert usage and usage[-1]["limit"] == CONTEXT_LIMIT and usage[-1]["tokens"] > 0
    part = answer["parts"][-1]
    assert part == {"kind": "usage", **usage[-1]}
    code, body = await api.call("GET", "sessions", sid)
    assert code == 200, body
    before = body["context_tokens"]
    assert before == usage[-1]["tokens"] and body["context_limit"] == CONTEXT_LIMIT

    code, body = await api.call("POST", "sessions", sid, "compact")
    assert code == 200, body
    divider = body["message"]
    assert (divider["role"], divider["content"]) == ("system", "Conversation compacted")
    assert divider["parts"][0]["kind"] == "compaction" and divider["parts"][0]["summary"]
    shown = await stream.until(
        lambda f: f.get("type") == "message" and f["message"]["role"] == "system"
    )
    assert shown[-1]["message"]["id"] == divider["id"] and shown[-1]["seq"] > 0
    code, body = await api.call("GET", "sessions", sid)
    assert body["context_tokens"] < before
    assert [m["role"] for m in await api.messages(sid)] == ["user", "assistant", "system"]

    await api.prompt(sid, "and after the summary?")
    await stream.until(lambda f: final(sid)(f) and f["message"]["id"] != answer["id"])
    request = next(
        r for r in reversed(fake_model.requests())
        if "and after the summary?" in json.dumps(r["messages"])
    )  # fmt: skip
    sent = json.dumps(request["messages"])
    assert "zebrafish tank count" not in sent.replace(divider["parts"][0]["summary"], "")


async def test_compaction_refuses_what_it_cannot_do(api: Api) -> None:
    code, body = await api.call("POST", "sessions", "compact-nosuch", "compact")
    assert (code, body["reason"]) == (404, "unknown_session")
    code, body = await api.call("POST", "sessions", "bad id!", "compact")
    assert code == 400
    body = await api.prompt("compact-busy1", "[[slow:50:0.1]] busy")
    code, body = await api.call("POST", "sessions", "compact-busy1", "compact")
    assert (code, body["reason"]) == (409, "busy")
    await api.call("POST", "sessions", "compact-busy1", "abort")
