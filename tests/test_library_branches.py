"""Fork at a message, edit and resend, rewind: our copy and opencode's stay in step."""

from __future__ import annotations

import json
from typing import Any

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .streams import Api, Opener

WORDS = ["alpaca", "bison", "cheetah"]


async def _three_exchanges(api: Api, sid: str) -> list[dict[str, Any]]:
    for word in WORDS:
        await api.ask(sid, f"remember the word {word}")
    messages = await api.messages(sid)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    return messages


def _history_seen(fake_model: FakeModelProcess, prompt: str) -> str:
    """The conversation the model was sent with the request that answered ``prompt``."""
    asked = [r for r in fake_model.requests() if prompt in json.dumps(r.get("messages"))]
    assert asked, f"the model never saw {prompt!r}"
    return json.dumps(asked[-1]["messages"])


async def test_fork_at_a_message(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    sid = "session-branch-fork"
    messages = await _three_exchanges(api, sid)
    k = 4  # up to and including the answer about "bison"
    code, body = await api.call(
        "POST", "sessions", sid, "fork", body={"message_id": messages[3]["id"]}
    )
    assert code == 201, body
    fork = body["session"]
    assert fork["parent_id"] == sid and fork["fork_message_id"] == messages[3]["id"]
    assert fork["message_count"] == k
    copied = await api.messages(fork["id"])
    assert [m["content"] for m in copied] == [m["content"] for m in messages[:k]]

    answer = await api.ask(fork["id"], "which words so far?")
    assert answer["content"] == expected_text("which words so far?")
    seen = _history_seen(fake_model, "which words so far?")
    assert "alpaca" in seen and "bison" in seen and "cheetah" not in seen
    assert len(await api.messages(sid)) == 6

    at_user = await api.call(
        "POST", "sessions", sid, "fork", body={"message_id": messages[0]["id"]}
    )
    assert at_user[0] == 201 and at_user[1]["session"]["message_count"] == 1
    for bad in ({"message_id": "no-such-message"}, {"message_id": 7}):
        code, body = await api.call("POST", "sessions", sid, "fork", body=bad)
        assert code in (400, 404) and body["reason"] in ("unknown_message", "bad_message_id")


async def test_edit_and_resend_leaves_the_original(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    sid = "session-branch-edit"
    messages = await _three_exchanges(api, sid)
    edited = "remember the word dolphin instead"
    code, body = await api.call(
        "POST", "sessions", sid, "messages", messages[2]["id"], "edit", body={"text": edited}
    )
    assert code == 202, body
    branch = body["session"]
    assert branch["id"] != sid and branch["parent_id"] == sid
    assert branch["fork_message_id"] == messages[1]["id"]
    await api.wait_status(branch["id"], body["assistant_message"]["id"])
    got = await api.messages(branch["id"])
    assert [m["content"] for m in got[:3]] == [
        messages[0]["content"],
        messages[1]["content"],
        edited,
    ]
    assert got[3]["content"] == expected_text(edited) and len(got) == 4
    seen = _history_seen(fake_model, edited)
    assert "alpaca" in seen and "bison" not in seen and "cheetah" not in seen
    assert [m["content"] for m in await api.messages(sid)] == [m["content"] for m in messages]

    code, body = await api.call(
        "POST", "sessions", sid, "messages", messages[1]["id"], "edit", body={"text": "x"}
    )
    assert code == 409 and body["reason"] == "not_user_message"
    code, body = await api.call(
        "POST", "sessions", sid, "messages", messages[0]["id"], "edit", body={"text": ""}
    )
    assert code == 400 and body["reason"] == "empty_text"


async def test_rewind_removes_the_tail_in_opencode_too(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    sid = "session-branch-rewind"
    messages = await _three_exchanges(api, sid)
    stream = await open_stream()
    stream.subscribe(sid)
    code, body = await api.call("DELETE", "sessions", sid, "messages", messages[4]["id"])
    assert code == 200, body
    assert body["removed"] == [messages[4]["id"], messages[5]["id"]]
    assert body["session"]["message_count"] == 4
    tombstone = await stream.until(lambda f: f["type"] == "rewind")
    assert tombstone[-1]["removed"] == body["removed"]
    assert [m["id"] for m in await api.messages(sid)] == [m["id"] for m in messages[:4]]
    assert (await api.call("GET", "search", q="cheetah"))[1]["hits"] == []

    assert (await api.ask(sid, "list every word"))["status"] == "complete"
    seen = _history_seen(fake_model, "list every word")
    assert "alpaca" in seen and "bison" in seen and "cheetah" not in seen
    assert len(await api.messages(sid)) == 6

    await api.prompt(sid, "[[slow:40:0.1]] keep going")
    code, body = await api.call("DELETE", "sessions", sid, "messages", messages[0]["id"])
    assert code == 409 and body["reason"] == "busy"
    await api.call("POST", "sessions", sid, "abort")
    code, body = await api.call("DELETE", "sessions", sid, "messages", "no-such-message")
    assert code == 404
