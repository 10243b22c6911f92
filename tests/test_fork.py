"""Forking: a new session with a copy of the conversation, continuing opencode's history."""

from __future__ import annotations

import json

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .streams import Api, Opener


async def test_fork_copies_messages_and_history(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    stream = await open_stream()
    sid = "session-fork-parent"
    await stream.answer(api, sid, "remember the word pineapple")
    assert (await api.call("POST", "sessions", "unknown-session", "fork"))[0] == 404

    code, body = await api.call("POST", "sessions", sid, "fork")
    assert code == 201
    fork = body["session"]
    assert fork["parent_id"] == sid and fork["id"] != sid and fork["message_count"] == 2
    parent_messages = await api.messages(sid)
    fork_messages = await api.messages(fork["id"])
    assert [(m["role"], m["content"]) for m in fork_messages] == [
        (m["role"], m["content"]) for m in parent_messages
    ]
    assert {m["id"] for m in fork_messages}.isdisjoint(m["id"] for m in parent_messages)

    fake_model.clear()
    frames = await stream.answer(api, fork["id"], "which word?")
    assert frames[-1]["message"]["content"] == expected_text("which word?")
    asked = [r for r in fake_model.requests() if "which word?" in json.dumps(r)]
    assert asked and "pineapple" in json.dumps(asked[-1]["messages"])
    assert len(await api.messages(sid)) == 2
