"""Abort, model errors, a killed worker and a permission round trip, with the real opencode."""

from __future__ import annotations

import asyncio
import os
import signal

from jupyter_opencode.testing import TOOL_OUTPUT, FakeModelProcess, expected_text

from .streams import Api, Opener, StreamClient, final, text_of, time_limit


async def _first_text(stream: StreamClient, sid: str) -> None:
    await stream.until(lambda f: f.get("kind") == "text" and f["session_id"] == sid)


async def test_abort_keeps_partial_text(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-abort-1"
    stream.subscribe(sid)
    text = "[[slow:200:0.02]] stop me"
    accepted = await api.prompt(sid, text)
    await _first_text(stream, sid)
    code, body = await api.call("POST", "sessions", sid, "abort")
    assert (code, body) == (200, {"aborted": True})
    frames = await stream.until(final(sid))
    message = await api.wait_status(sid, accepted["assistant_message"]["id"])
    assert message["status"] == "aborted"
    streamed = text_of(stream.frames, sid)
    assert streamed and expected_text(text).startswith(streamed)
    assert message["content"] == streamed
    assert len(streamed) < len(expected_text(text))
    assert frames[-1]["message"]["status"] == "aborted"
    code, body = await api.call("POST", "sessions", sid, "abort")
    assert (code, body) == (200, {"aborted": False})


async def test_model_400_is_an_error_with_its_message(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-err400"
    frames = await stream.answer(api, sid, "[[error400]]")
    message = frames[-1]["message"]
    assert message["status"] == "error"
    assert "Scripted bad request" in (message["error"] or "")


async def test_model_500_reports_retries_then_error(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-err500"
    frames = await stream.answer(api, sid, "[[error500]]", timeout=120)
    retries = [f for f in frames if f.get("kind") == "status" and f["status"] == "retrying"]
    assert [f["attempt"] for f in retries][:2] == [1, 2]
    assert frames[-1]["message"]["status"] == "error"


async def test_killed_worker_interrupts_then_restarts(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-kill-1"
    stream.subscribe(sid)
    accepted = await api.prompt(sid, "[[slow:300:0.02]] long answer")
    await _first_text(stream, sid)
    _, status = await api.call("GET", "status")
    os.kill(status["worker"]["pid"], signal.SIGKILL)
    frames = await stream.until(final(sid))
    message = await api.wait_status(sid, accepted["assistant_message"]["id"])
    assert message["status"] == "interrupted"
    streamed = text_of(stream.frames, sid)
    assert streamed and message["content"] == streamed
    assert "exited" in (message["error"] or "")
    async with time_limit(30):
        while (await api.call("GET", "status"))[1]["worker"]["state"] != "ready":
            await asyncio.sleep(0.1)
    _, status = await api.call("GET", "status")
    assert status["worker"]["restarts"] == 1
    text = "and now?"
    await api.prompt(sid, text)
    frames = await stream.until(final(sid))
    assert frames[-1]["message"]["status"] == "complete"
    assert frames[-1]["message"]["content"] == expected_text(text)


async def test_permission_request_and_reply(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    stream = await open_stream()
    sid = "session-permission"
    stream.subscribe(sid)
    await api.prompt(sid, "[[tool]] run something")
    asked = (await stream.until(lambda f: f.get("kind") == "permission"))[-1]
    permission = asked["permission"]
    assert permission["permission"] == "bash"
    code, body = await api.call(
        "POST", "sessions", sid, "permissions", permission["id"], body={"reply": "sideways"}
    )
    assert code == 400 and body["reason"] == "bad_reply"
    code, body = await api.call(
        "POST", "sessions", sid, "permissions", "per_unknown", body={"reply": "once"}
    )
    assert code == 404
    code, _ = await api.call(
        "POST", "sessions", sid, "permissions", permission["id"], body={"reply": "once"}
    )
    assert code == 200
    frames = await stream.until(final(sid))
    tools = [f["tool"] for f in frames if f.get("kind") == "tool"]
    assert tools[-1]["status"] == "completed" and TOOL_OUTPUT in str(tools[-1].get("output"))
    message = frames[-1]["message"]
    assert message["status"] == "complete" and TOOL_OUTPUT in message["content"]
    assert any(p["kind"] == "tool" for p in message["parts"])
