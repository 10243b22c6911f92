"""Files changed by opencode's own edit tools: listed with the answer, undone exactly."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import TOOL_OUTPUT

from .streams import Api, Opener, ask, final


def calls(*steps: tuple[str, dict[str, Any]]) -> str:
    """A prompt making the fake model call opencode's own tools in order."""
    return " ".join(f"[[call {tool} {json.dumps(args)}]]" for tool, args in steps)


def files_part(message: dict[str, Any]) -> dict[str, Any]:
    """The "Files changed" part of a final answer."""
    return next(p for p in message["parts"] if p["kind"] == "files")


async def test_changed_files_are_listed_and_undone_except_those_changed_since(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    old, new, kept = jp_root_dir / "old.txt", jp_root_dir / "sub" / "new.txt", jp_root_dir / "k.md"
    old.write_bytes(b"one\ntwo\nthree\n")
    text = calls(
        ("write", {"filePath": str(new), "content": "hello\nworld\n"}),
        ("write", {"filePath": str(old), "content": "one\n2\nthree\nfour\n"}),
        ("edit", {"filePath": str(new), "oldString": "world", "newString": "there"}),
        ("write", {"filePath": str(kept), "content": "# notes\n"}),
    )
    sid = f"files-{uuid.uuid4().hex[:8]}"
    # "Always" answers the first prompt; the later edits are still read before they land.
    frames, answer = await ask(api, await open_stream(), sid, text, ["always"])
    assert [f.get("kind") for f in frames] == ["permission", None]
    assert new.read_text() == "hello\nthere\n"
    part = files_part(answer)
    assert part["shell"] is False
    listed = [(c["path"], c["op"], c["additions"], c["deletions"]) for c in part["changes"]]
    assert listed == [
        ("sub/new.txt", "added", 2, 0),
        ("old.txt", "modified", 2, 1),
        ("k.md", "added", 1, 0),
    ]
    assert "-two\n+2\n" in part["changes"][1]["diff"]

    route = ["sessions", sid, "messages", answer["id"], "files"]
    code, body = await api.call("GET", *route)
    assert code == 200, body
    assert [c["path"] for c in body["changes"]] == ["sub/new.txt", "old.txt", "k.md"]
    assert body["note"] == "Changes made by shell commands are not tracked."

    kept.write_text("# notes\nmine\n")  # the user's own edit after the answer
    code, body = await api.call("POST", *route, "undo")
    assert code == 200, body
    assert body["restored"] == ["sub/new.txt", "old.txt"]
    assert body["skipped"] == [{"path": "k.md", "reason": "changed since the answer"}]
    assert not new.exists() and old.read_bytes() == b"one\ntwo\nthree\n"
    assert kept.read_text() == "# notes\nmine\n"
    code, body = await api.call("GET", *route)
    assert code == 200 and [c["path"] for c in body["changes"]] == ["k.md"]


async def test_rewinding_past_an_answer_offers_to_undo_its_file_changes(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    target = jp_root_dir / "data.csv"
    target.write_text("a,b\n1,2\n")
    sid = f"files-{uuid.uuid4().hex[:8]}"
    stream = await open_stream()
    text = calls(("edit", {"filePath": str(target), "oldString": "1,2", "newString": "3,4"}))
    _, answer = await ask(api, stream, sid, text, ["once"])
    assert target.read_text() == "a,b\n3,4\n"
    question = next(m for m in await api.messages(sid) if m["role"] == "user")

    code, body = await api.call("DELETE", "sessions", sid, "messages", question["id"])
    assert code == 200, body
    assert body["file_changes"] == [answer["id"]] and body["notebook_changes"] == []
    rewound = await stream.until(lambda f: f.get("type") == "rewind")
    assert rewound[-1]["file_changes"] == [answer["id"]]

    route = ["sessions", sid, "messages", answer["id"], "files"]
    code, body = await api.call("POST", *route, "undo")
    assert code == 200 and body == {"restored": ["data.csv"], "skipped": []}
    assert target.read_text() == "a,b\n1,2\n"
    code, body = await api.call("POST", *route, "undo")
    assert code == 200 and body == {"restored": [], "skipped": []}


async def test_a_rejected_edit_lists_nothing_and_shell_commands_are_said_untracked(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    target = jp_root_dir / "keep.txt"
    target.write_text("same\n")
    sid = f"files-{uuid.uuid4().hex[:8]}"
    stream = await open_stream()
    text = calls(("write", {"filePath": str(target), "content": "other\n"}))
    _, rejected = await ask(api, stream, sid, text, ["reject"])
    assert target.read_text() == "same\n"
    assert not [p for p in rejected["parts"] if p["kind"] == "files"]
    code, body = await api.call("GET", "sessions", sid, "messages", rejected["id"], "files")
    assert code == 200 and body["changes"] == []

    await api.prompt(sid, "[[tool]]")
    frame = (await stream.until(lambda f: f.get("kind") == "permission"))[-1]
    code, _ = await api.call(
        "POST", "sessions", sid, "permissions", frame["permission"]["id"], body={"reply": "once"}
    )
    assert code == 200
    shell = await stream.until(lambda f: final(sid)(f) and f["message"]["id"] != rejected["id"])
    answer = shell[-1]["message"]
    assert TOOL_OUTPUT in answer["content"]
    assert files_part(answer) == {"kind": "files", "changes": [], "shell": True}


async def test_unknown_answers_and_sessions_are_404(api: Api, jp_root_dir: Path) -> None:
    code, body = await api.call("GET", "sessions", "files-nosuchsession", "messages", "m1", "files")
    assert (code, body["reason"]) == (404, "unknown_session")
    answer = await api.ask("files-known-1", "hello")
    code, body = await api.call(
        "POST", "sessions", "files-known-1", "messages", "x", "files", "undo"
    )
    assert (code, body["reason"]) == (404, "unknown_message")
    code, body = await api.call(
        "GET", "sessions", "files-known-1", "messages", answer["id"], "files"
    )
    assert code == 200 and body["changes"] == []
