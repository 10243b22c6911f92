"""Bad input gets a clear 4xx with {message, reason}, and changes nothing already saved."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClosedError

from jupyter_opencode.server.handlers import ROUTES
from jupyter_opencode.server.handlers.stream import MAX_SUBSCRIPTIONS

from .streams import Api, Opener, final

SID = "session-bad-input"
METHODS = ("get", "post", "put", "patch", "delete")


async def _saved(api: Api) -> Any:
    return (await api.call("GET", "sessions"))[1], await api.messages(SID)


async def _seed(api: Api, open_stream: Opener) -> Any:
    stream = await open_stream()
    await stream.answer(api, SID, "hello")
    return await _saved(api)


BAD_PROMPTS = [
    (b"{not json", "bad_json"),
    (b"[1, 2]", "bad_json"),
    (json.dumps({"text": ""}).encode(), "empty_text"),
    (json.dumps({"text": "   "}).encode(), "empty_text"),
    (json.dumps({"text": 42}).encode(), "empty_text"),
    (json.dumps({}).encode(), "empty_text"),
    (json.dumps({"text": "x" * 300_000}).encode(), "message_too_large"),
    (json.dumps({"text": "hi", "model": 3}).encode(), "bad_model"),
    (json.dumps({"text": "hi", "context": "cell"}).encode(), "bad_context"),
    (json.dumps({"text": "hi", "context": [{"kind": "no", "label": "", "text": ""}]}).encode(),
     "bad_context"),
]  # fmt: skip


async def test_bad_prompts_are_400_and_change_nothing(api: Api, open_stream: Opener) -> None:
    before = await _seed(api, open_stream)
    for raw, reason in BAD_PROMPTS:
        code, body = await api.call("POST", "sessions", SID, "messages", raw=raw)
        assert code == 400, (raw[:40], body)
        assert body["reason"] == reason and body["message"], body
    assert await _saved(api) == before


@pytest.mark.parametrize("sid", ["short", "has space in it", "x" * 65, "semi;colon!"])
async def test_bad_session_ids(api: Api, sid: str) -> None:
    for method, path, body in [
        ("GET", ("sessions", sid), None),
        ("POST", ("sessions", sid, "messages"), {"text": "hi"}),
        ("GET", ("sessions", sid, "messages"), None),
    ]:
        code, answer = await api.call(method, *path, body=body)
        assert code in (400, 404) and answer["reason"] in ("bad_session_id", None), answer
        if code == 400:
            assert "session id" in answer["message"]


async def test_unknown_session_is_404(api: Api) -> None:
    for method, path in [
        ("GET", ("sessions", "no-such-session")),
        ("GET", ("sessions", "no-such-session", "messages")),
        ("PATCH", ("sessions", "no-such-session")),
        ("DELETE", ("sessions", "no-such-session")),
        ("POST", ("sessions", "no-such-session", "abort")),
        ("POST", ("sessions", "no-such-session", "permissions", "p1")),
    ]:
        body = {"PATCH": {"title": "t"}, "POST": {"reply": "once"}}.get(method)
        code, answer = await api.call(method, *path, body=body)
        assert code == 404 and answer["reason"] == "unknown_session", (method, path, answer)


async def test_bad_query_arguments(api: Api, open_stream: Opener) -> None:
    before = await _seed(api, open_stream)
    bad: list[tuple[tuple[str, ...], dict[str, Any], str]] = [
        (("sessions",), {"limit": "0"}, "bad_limit"),
        (("sessions",), {"limit": "many"}, "bad_limit"),
        (("sessions",), {"cursor": "%%%"}, "bad_cursor"),
        (("sessions", SID, "messages"), {"limit": "100000"}, "bad_limit"),
        (("sessions", SID, "messages"), {"limit": "1_0"}, "bad_limit"),
        (("sessions",), {"starred": ""}, "bad_starred"),
    ]
    for path, params, reason in bad:
        code, body = await api.call("GET", *path, **params)
        assert (code, body["reason"]) == (400, reason), body
    code, body = await api.call("GET", "sessions", SID, "messages", before="nope")
    assert (code, body["reason"]) == (404, "unknown_message")
    code, body = await api.call("PATCH", "sessions", SID, body={"title": ""})
    assert (code, body["reason"]) == (400, "bad_title")
    assert await _saved(api) == before


async def test_busy_session_is_409(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-busy-1"
    stream.subscribe(sid)
    await api.prompt(sid, "[[slow:40:0.02]] busy")
    code, body = await api.call("POST", "sessions", sid, "messages", body={"text": "again"})
    assert (code, body["reason"]) == (409, "busy")
    code, body = await api.call("DELETE", "sessions", sid)
    assert (code, body["reason"]) == (409, "busy")
    await stream.until(final(sid))
    assert len(await api.messages(sid)) == 2


@pytest.mark.parametrize("action", ["prompt", "fork", "delete"])
async def test_an_action_right_after_the_idle_status_is_taken(
    api: Api, open_stream: Opener, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """The idle status goes out before the answer is saved: what follows waits, not refused."""
    store = jp_serverapp.web_app.settings["jupyter_opencode_app"].service.store
    finish_message = store.finish_message

    async def slow_disk(message: dict[str, Any]) -> None:
        await asyncio.sleep(0.5)
        await finish_message(message)

    monkeypatch.setattr(store, "finish_message", slow_disk)
    stream = await open_stream()
    sid = f"session-idle-{action}"
    stream.subscribe(sid)
    await api.prompt(sid, "first")
    await stream.until(
        lambda f: f["type"] == "chunk" and f.get("kind") == "status" and f.get("status") == "idle"
    )
    if action == "delete":
        assert (await api.call("DELETE", "sessions", sid))[0] == 204
        return
    if action == "fork":
        code, body = await api.call("POST", "sessions", sid, "fork")
        assert code == 201, body
        forked = [m["status"] for m in await api.messages(body["session"]["id"])]
        assert forked == ["complete"] * 2
        return
    code, body = await api.call("POST", "sessions", sid, "messages", body={"text": "second"})
    assert code == 202, body
    await stream.until(
        lambda f: final(sid)(f) and f["message"]["id"] == body["assistant_message"]["id"]
    )
    assert [m["status"] for m in await api.messages(sid)] == ["complete"] * 4


async def test_sessions_rename_page_and_delete(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sids = [f"session-page-{i}" for i in range(3)]
    for sid in sids:
        await stream.answer(api, sid, f"hello {sid}")
    code, page = await api.call("GET", "sessions", limit="2")
    assert code == 200 and [s["id"] for s in page["sessions"]] == sids[::-1][:2]
    code, rest = await api.call("GET", "sessions", limit="2", cursor=page["next_cursor"])
    assert [s["id"] for s in rest["sessions"]] == [sids[0]] and rest["next_cursor"] is None
    code, renamed = await api.call("PATCH", "sessions", sids[0], body={"title": "Renamed"})
    assert code == 200 and renamed["title"] == "Renamed"
    code, _ = await api.call("DELETE", "sessions", sids[1])
    assert code == 204
    assert (await api.call("GET", "sessions", sids[1]))[0] == 404
    # A late prompt to the deleted id (a stale tab or kernel) does not bring the session back.
    code, body = await api.call("POST", "sessions", sids[1], "messages", body={"text": "hi"})
    assert (code, body["reason"]) == (410, "session_deleted")
    stream.send(type="prompt", session_id=sids[1], text="hi")
    refused = await stream.until(lambda frame: frame["type"] == "error")
    assert refused[-1]["reason"] == "session_deleted"
    assert (await api.call("GET", "sessions", sids[1]))[0] == 404
    code, listed = await api.call("GET", "sessions")
    assert {s["id"] for s in listed["sessions"]} == {sids[0], sids[2]}


async def test_unauthenticated_requests_are_403(jp_fetch: Any, jp_ws_fetch: Any) -> None:
    for method, path in [
        ("GET", "status"), ("GET", "sessions"), ("POST", "sessions/abcdefgh/messages"),
        ("GET", "openapi.json"), ("GET", "models"),
    ]:  # fmt: skip
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(
                "opencode", *path.split("/"), method=method,
                headers={"Authorization": "token wrong"},
                body=b"{}" if method == "POST" else None,
            )  # fmt: skip
        assert info.value.code == 403
        assert info.value.response is not None
        body = json.loads(info.value.response.body)
        assert body["reason"] == "forbidden" and body["message"]
    with pytest.raises(HTTPClientError) as info:
        await jp_ws_fetch("opencode", "stream", headers={"Authorization": "token wrong"})
    assert info.value.code == 403


async def test_bad_stream_frames_get_error_frames(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    for frame, reason in [
        ("not json", "bad_json"),
        ("[]", "bad_json"),
        (json.dumps({"type": "subscribe", "session_id": "bad id"}), "bad_session_id"),
        (json.dumps({"type": "subscribe", "session_id": SID, "after_seq": -1}), "bad_after_seq"),
        (json.dumps({"type": "subscribe", "session_id": SID, "after_seq": "3"}), "bad_after_seq"),
        (json.dumps({"type": "dance", "session_id": SID}), "bad_type"),
        (json.dumps({"type": "cadence"}), "bad_cadence_ms"),
        (json.dumps({"type": "cadence", "cadence_ms": "40"}), "bad_cadence_ms"),
        (json.dumps({"type": "cadence", "cadence_ms": 1001}), "bad_cadence_ms"),
        (json.dumps({"type": "cadence", "cadence_ms": True}), "bad_cadence_ms"),
        (json.dumps({"type": "prompt", "session_id": SID, "text": ""}), "empty_text"),
    ]:
        stream.ws.write_message(frame)
        answer = await stream.next()
        assert (answer["type"], answer["reason"]) == ("error", reason) and answer["message"]
    assert (await api.call("GET", "sessions", SID))[0] == 404
    try:
        stream.ws.write_message(json.dumps({"type": "prompt", "session_id": SID, "text": "via ws"}))
    except WebSocketClosedError:
        pytest.fail("the stream closed after bad frames")
    accepted = await stream.next()
    assert accepted["type"] == "accepted" and accepted["user_message"]["content"] == "via ws"


async def test_openapi_document_matches_routes(api: Api) -> None:
    code, document = await api.call("GET", "openapi.json")
    assert code == 200 and document["openapi"].startswith("3.")
    served = {}
    for pattern, handler in ROUTES:
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        ours = [c for c in handler.__mro__ if c.__module__.startswith("jupyter_opencode.")]
        methods = {m for m in METHODS if any(m in vars(c) for c in ours)}
        served[path] = methods
    documented = {path: {m for m in ops if m in METHODS} for path, ops in document["paths"].items()}
    assert documented == served
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()
           if isinstance(op, dict)]  # fmt: skip
    assert len(ids) == len(set(ids))
    for ops in document["paths"].values():
        for op in ops.values():
            for answer in op.get("responses", {}).values() if isinstance(op, dict) else ():
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in ids


async def test_every_405_says_what_is_allowed(jp_fetch: Any) -> None:
    for path, method, allowed in [
        (("status",), "DELETE", "GET"),
        (("sessions", SID), "POST", "GET, PATCH, DELETE"),
        (("templates",), "PUT", "GET, POST"),
        (("stream",), "POST", "GET"),
    ]:
        response = await jp_fetch("opencode", *path, method=method, raise_error=False,
                                  body=b"{}" if method != "DELETE" else None,
                                  allow_nonstandard_methods=True)  # fmt: skip
        assert response.code == 405 and response.headers["Allow"] == allowed, path
        assert json.loads(response.body)["reason"] == "method_not_allowed"


async def test_plain_requests_to_sockets_get_json(jp_fetch: Any) -> None:
    """A WebSocket route answers a plain GET (and a missing token) as the document says."""
    for route in ("stream", "notebook/live"):
        response = await jp_fetch("opencode", *route.split("/"), raise_error=False)
        assert response.code == 400 and json.loads(response.body)["reason"] == "not_websocket"
        response = await jp_fetch("opencode", *route.split("/"), raise_error=False,
                                  headers={"Authorization": "token wrong"})  # fmt: skip
        assert response.code == 403 and json.loads(response.body)["reason"] == "forbidden"


async def test_unsubscribe_and_subscription_limit(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    muted, heard = "session-muted", "session-heard"
    stream.subscribe(muted)
    stream.send(type="unsubscribe", session_id=muted)
    stream.subscribe(heard)
    await api.prompt(heard, "first")
    frames = await stream.until(final(heard))  # frames are handled in order: muted is gone
    await api.prompt(muted, "nobody listens")
    await api.prompt(heard, "second")
    frames += await stream.until(final(heard))
    assert {f["session_id"] for f in frames} == {heard}
    for i in range(MAX_SUBSCRIPTIONS - 1):
        stream.subscribe(f"session-many-{i:04d}")
    stream.subscribe("session-one-too-many")
    answer = await stream.next()
    assert answer["type"] == "error" and answer["reason"] == "too_many_subscriptions"


async def test_concurrent_prompts_to_one_session(api: Api, open_stream: Opener) -> None:
    stream = await open_stream()
    sid = "session-race-1"
    stream.subscribe(sid)
    answers = await asyncio.gather(
        *(
            api.call("POST", "sessions", sid, "messages", body={"text": f"hello {i}"})
            for i in range(6)
        )
    )
    codes = sorted(code for code, _ in answers)
    assert codes == [202, 409, 409, 409, 409, 409]
    await stream.until(final(sid))
    messages = await api.messages(sid)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["status"] == "complete"
