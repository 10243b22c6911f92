"""Importing a JSON export: a new session that round-trips every field and can be continued."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .streams import Api, Opener

SID = "session-import-source"
MAX_IMPORT = 200_000
# Everything a session carries that is its content rather than this server's bookkeeping.
SESSION_FIELDS = (
    "title", "model", "notebook_path", "settings", "created_at", "last_activity",
    "message_count", "tokens", "cost", "first_message_preview", "starred", "archived", "tags",
)  # fmt: skip


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """A small import limit, to test the oversized case cheaply."""
    jp_server_config["OpencodeExtension"]["max_import_bytes"] = MAX_IMPORT
    return jp_server_config


async def export_json(api: Api, sid: str) -> dict[str, Any]:
    code, doc = await api.call("GET", "sessions", sid, "export", format="json")
    assert code == 200, doc
    return doc


async def import_doc(api: Api, doc: Any) -> tuple[int, Any]:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return await api.call("POST", "sessions", "import", raw=raw)


async def test_round_trip_and_continue(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    stream = await open_stream()
    await stream.answer(api, SID, "[[reasoning]] remember the word pineapple")
    await api.call("PATCH", "sessions", SID, body={"title": "Fruit talk"})
    original = await export_json(api, SID)

    code, body = await import_doc(api, original)
    assert code == 201, body
    imported = body["session"]
    assert imported["id"] != SID and imported["status"] == "idle"
    assert imported["opencode_session_id"] is None and imported["parent_id"] is None
    assert imported["imported_from"]["session_id"] == SID
    assert imported["imported_from"]["title"] == "Fruit talk"

    again = await export_json(api, imported["id"])
    for field in SESSION_FIELDS:
        assert again["session"][field] == original["session"][field], field
    assert len(again["messages"]) == len(original["messages"]) == 2
    for copy, source in zip(again["messages"], original["messages"], strict=True):
        assert copy["id"] != source["id"]
        assert {k: v for k, v in copy.items() if k != "id"} == {
            k: v for k, v in source.items() if k != "id"
        }
    assert again["messages"][1]["parts"][0]["kind"] == "reasoning"

    # Continuing: the agent gets the imported conversation with the first new prompt.
    fake_model.clear()
    frames = await stream.answer(api, imported["id"], "which word did I ask you to remember?")
    answer = frames[-1]["message"]
    assert answer["status"] == "complete"
    assert answer["content"] == expected_text("which word did I ask you to remember?")
    asked = [r for r in fake_model.requests() if "which word did I" in json.dumps(r)]
    sent = json.dumps(asked[-1]["messages"])
    assert "Imported conversation: Fruit talk" in sent and "remember the word pineapple" in sent
    assert "Here is some code" in sent  # the imported answer too
    continued = await api.messages(imported["id"])
    assert [m["role"] for m in continued] == ["user", "assistant", "user", "assistant"]
    assert continued[2]["content"] == "which word did I ask you to remember?"

    # Later prompts continue opencode's own session: the transcript is not sent again.
    fake_model.clear()
    accepted = await api.prompt(imported["id"], "and one more question")
    await api.wait_status(imported["id"], accepted["assistant_message"]["id"])
    later = [r for r in fake_model.requests() if "and one more question" in json.dumps(r)]
    assert "Imported conversation" not in json.dumps(later[-1]["messages"][-1])


async def test_fork_of_an_import_hands_the_agent_its_history(
    api: Api, open_stream: Opener, fake_model: FakeModelProcess
) -> None:
    """A fork of an imported session the agent never saw gets the imported conversation too."""
    stream = await open_stream()
    await stream.answer(api, "session-import-fork", "remember the word mango")
    code, body = await import_doc(api, await export_json(api, "session-import-fork"))
    assert code == 201, body
    code, forked = await api.call("POST", "sessions", body["session"]["id"], "fork")
    assert code == 201, forked
    fork = forked["session"]
    assert fork["imported_from"]["session_id"] == "session-import-fork"

    fake_model.clear()
    await stream.answer(api, fork["id"], "which fruit was it?")
    asked = [r for r in fake_model.requests() if "which fruit was it" in json.dumps(r)]
    assert "remember the word mango" in json.dumps(asked[-1]["messages"])


def valid() -> dict[str, Any]:
    return {
        "format": "jupyter-opencode.session",
        "version": 1,
        "session": {"title": "ok", "tags": ["a"]},
        "messages": [
            {"role": "user", "content": "hi", "created_at": 1.0},
            {"role": "assistant", "content": "hello", "created_at": 2.0,
             "annotation": {"rating": "up", "note": "good"}},
        ],
    }  # fmt: skip


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = valid()
    target: Any = doc
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return doc


async def test_bad_imports_are_400_and_create_nothing(api: Api, tmp_path: Path) -> None:
    cases: list[tuple[Any, str, str]] = [
        (b"{not json", "bad_json", "not valid JSON"),
        (b"\xff\xfe", "bad_json", "not valid JSON"),
        ([1, 2], "bad_json", "must be a JSON object"),
        (_with("format", "other"), "bad_format", "not a jupyter-opencode JSON export"),
        (_with("version", 2), "unsupported_version", "version 2 is not supported"),
        (_with("version", "1"), "unsupported_version", "this server reads version 1"),
        (_with("session", []), "bad_import", "'session' must be an object"),
        (_with("session.title", "x" * 201), "bad_import", "session.title must be a string"),
        (_with("session.tags", "a,b"), "bad_import", "session.tags must be a list of strings"),
        (_with("messages", {}), "bad_import", "'messages' must be a list"),
        (_with("messages.1.role", "robot"), "bad_import", "messages[1].role must be one of"),
        (_with("messages.0.content", None), "bad_import", "messages[0].content must be a string"),
        (_with("messages.0.created_at", "today"), "bad_import", "messages[0].created_at"),
        (_with("messages.1.status", "done"), "bad_import", "messages[1].status must be one of"),
        (_with("messages.1.parts", {}), "bad_import", "messages[1].parts must be a list"),
        (_with("messages.1.parts", ["x"]), "bad_import", "messages[1].parts[0] must be an object"),
        (_with("messages.1.parts", [{"kind": "tool", "name": 3}]), "bad_import", "with fields"),
        (_with("messages.0.context", [{"label": "x"}]), "bad_import", "(kind required)"),
        # As a sent message keeps it: an attachment without its size is no export of ours.
        (
            _with("messages.0.attachments", [{"type": "file", "name": "a.csv"}]),
            "bad_import",
            "(type, name, size required)",
        ),
        (_with("messages.1.annotation", {"rating": "meh"}), "bad_import", "annotation.rating"),
        (_with("messages.1.tokens", 1.5), "bad_import", "messages[1].tokens must be an integer"),
        (_with("messages.1.content", "x" * MAX_IMPORT), "import_too_large", "the limit is 200000"),
        (_with("messages.1.content", "a\ud800b"), "bad_import", "not valid Unicode"),
        (_with("session.tags", ["\udfff"]), "bad_import", "not valid Unicode"),
    ]
    for body, reason, words in cases:
        code, answer = await import_doc(api, body)
        assert (code, answer["reason"]) == (400, reason), (body, answer)
        assert words in answer["message"], answer
    code, listed = await api.call("GET", "sessions")
    assert listed["sessions"] == []

    code, body = await import_doc(api, valid())
    assert code == 201
    code, listed = await api.call("GET", "sessions")
    assert [s["id"] for s in listed["sessions"]] == [body["session"]["id"]]
    messages = await api.messages(body["session"]["id"])
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", "hi", "complete"),
        ("assistant", "hello", "complete"),
    ]


async def test_every_field_survives_import_then_export(api: Api) -> None:
    rich: dict[str, Any] = {
        "format": "jupyter-opencode.session",
        "version": 1,
        "session": {
            "title": "Everything", "model": "fake/echo-1", "notebook_path": "work/a.ipynb",
            "settings": {"system": "be brief", "auto_context": False}, "starred": True,
            "archived": True, "tags": ["q3", "sales"], "created_at": 1_700_000_000.5,
            "last_activity": 1_700_000_100.25,
        },
        "messages": [
            {"role": "user", "status": "complete", "content": "first", "error": None,
             "model": None, "tokens": 0, "cost": 0, "created_at": 1_700_000_001.0,
             "completed_at": 1_700_000_001.0,
             "context": [{"kind": "variable", "label": "df", "text": "shape (3, 2)"}],
             "attachments": [{"type": "file", "name": "a.csv", "path": "a.csv", "size": 9,
                              "mime": "text/plain"}],
             "parts": [], "annotation": None},
            {"role": "assistant", "status": "error", "content": "partial", "error": "boom",
             "model": "fake/echo-1", "tokens": 42, "cost": 0.25, "created_at": 1_700_000_002.0,
             "completed_at": 1_700_000_003.0, "context": [], "attachments": [],
             "parts": [{"kind": "reasoning", "text": "hmm"},
                       {"kind": "tool", "call_id": "c1", "name": "bash", "status": "completed",
                        "title": "ls", "input": {"command": "ls"}, "output": "a.csv"}],
             "annotation": {"rating": "down", "note": "cut off"}},
            {"role": "system", "status": "interrupted", "content": "note", "error": None,
             "model": None, "tokens": 0, "cost": 0, "created_at": 1_700_000_004.0,
             "completed_at": None, "context": [], "attachments": [], "parts": [],
             "annotation": None},
        ],
    }  # fmt: skip
    code, body = await import_doc(api, rich)
    assert code == 201, body
    session = body["session"]
    for field, value in rich["session"].items():
        if field != "settings":
            assert session[field] == value, field
    assert (session["message_count"], session["tokens"], session["cost"]) == (3, 42, 0.25)
    assert session["first_message_preview"] == "first"

    exported = await export_json(api, session["id"])
    assert exported["session"]["settings"] == rich["session"]["settings"]
    copies = [{k: v for k, v in m.items() if k != "id"} for m in exported["messages"]]
    assert copies == rich["messages"]
