"""Annotations (rating and note) and session templates: a real server, opencode, the fake model."""

from __future__ import annotations

import json

from jupyter_opencode.testing import FakeModelProcess

from .streams import Api

SID = "session-notes-1"


async def test_annotations_are_listed_and_searched(api: Api) -> None:
    await api.ask(SID, "how do I merge two frames")
    user, answer = await api.messages(SID)
    assert user["annotation"] is None and answer["annotation"] is None

    note = "the merge on customer_id was exactly right"
    code, body = await api.call(
        "PUT", "sessions", SID, "messages", answer["id"], "annotation",
        body={"rating": "up", "note": note},
    )  # fmt: skip
    assert code == 200 and body["annotation"] == {"rating": "up", "note": note}
    listed = {m["id"]: m for m in await api.messages(SID)}
    assert listed[answer["id"]]["annotation"] == {"rating": "up", "note": note}
    assert listed[user["id"]]["annotation"] is None

    code, found = await api.call("GET", "search", q="customer_id exactly")
    assert code == 200
    hit = found["hits"][0]
    assert (hit["kind"], hit["message_id"], hit["session_id"]) == ("note", answer["id"], SID)

    await api.call(
        "PUT", "sessions", SID, "messages", answer["id"], "annotation",
        body={"rating": "down", "note": "on second thought, wrong key"},
    )  # fmt: skip
    assert (await api.call("GET", "search", q="customer_id"))[1]["hits"] == []
    assert (await api.call("GET", "search", q="second thought"))[1]["hits"]

    for bad, reason in [
        ({"rating": "meh"}, "bad_rating"),
        ({"note": 5}, "bad_note"),
        ({"note": "x" * 10_001}, "bad_note"),
        ({"stars": 5}, "unknown_field"),
    ]:
        code, body = await api.call(
            "PUT", "sessions", SID, "messages", answer["id"], "annotation", body=bad
        )
        assert code == 400 and body["reason"] == reason, (bad, body)
    code, body = await api.call(
        "PUT", "sessions", SID, "messages", "no-such-message", "annotation", body={"note": "x"}
    )
    assert code == 404
    listed = {m["id"]: m for m in await api.messages(SID)}
    assert listed[answer["id"]]["annotation"]["rating"] == "down"

    await api.call(
        "PUT", "sessions", SID, "messages", answer["id"], "annotation",
        body={"rating": None, "note": ""},
    )  # fmt: skip
    assert {m["id"]: m for m in await api.messages(SID)}[answer["id"]]["annotation"] is None


async def test_templates(api: Api, fake_model: FakeModelProcess) -> None:
    template = {
        "name": "tidy-reviewer",
        "agent": "build",
        "instructions": "Always answer as a meticulous pandas reviewer named Quokka.",
    }
    code, body = await api.call("POST", "templates", body=template)
    assert code == 201 and body["name"] == "tidy-reviewer"
    code, body = await api.call("GET", "templates")
    assert code == 200 and body["templates"] == [{**template, "model": None}]

    sid = "session-template-1"
    answer = await api.ask(sid, "review my cleaning code", template="tidy-reviewer")
    assert answer["status"] == "complete"
    asked = [r for r in fake_model.requests() if "review my cleaning code" in json.dumps(r)]
    assert asked and "Quokka" in json.dumps(asked[-1]["messages"])
    code, body = await api.call(
        "POST", "sessions", sid, "messages", body={"text": "again", "template": "tidy-reviewer"}
    )
    assert code == 409 and body["reason"] == "template_not_first"
    code, body = await api.call(
        "POST", "sessions", "session-template-2", "messages",
        body={"text": "hi", "template": "no-such-template"},
    )  # fmt: skip
    assert code == 404 and body["reason"] == "unknown_template"
    assert (await api.call("GET", "sessions", "session-template-2"))[0] == 404

    for bad, reason in [
        ({"name": ""}, "bad_template_name"),
        ({"name": "a/b"}, "bad_template_name"),
        ({"name": "t", "model": "nomodel"}, "bad_model"),
        ({"name": "t", "agent": "no such agent"}, "bad_agent"),
        ({"name": "t", "instructions": 3}, "bad_instructions"),
        ({"name": "t", "colour": "red"}, "unknown_field"),
    ]:
        code, body = await api.call("POST", "templates", body=bad)
        assert code == 400 and body["reason"] == reason, (bad, body)

    # The template's agent answers every prompt of the session, not just the first.
    await api.call("POST", "templates", body={"name": "planner", "agent": "plan"})
    await api.ask("session-template-plan", "draft a plan", template="planner")
    await api.ask("session-template-plan", "and the second step?")
    follow_up = [r for r in fake_model.requests() if "the second step?" in json.dumps(r)]
    assert "plan mode" in json.dumps(follow_up[-1]).lower()
    assert "plan mode" not in json.dumps(asked[-1]).lower()
    code, session = await api.call("GET", "sessions", "session-template-plan")
    assert code == 200 and session["agent"] == "plan"
    assert (await api.call("GET", "sessions", sid))[1]["agent"] == "build"
    assert (await api.call("DELETE", "templates", "planner"))[0] == 204
    assert (await api.call("DELETE", "templates", "tidy-reviewer"))[0] == 204
    assert (await api.call("DELETE", "templates", "tidy-reviewer"))[0] == 404
    assert (await api.call("GET", "templates"))[1]["templates"] == []
