"""Notebook tools on a notebook no browser has open: the real opencode, MCP server, fake model."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import nbformat
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_opencode.demo.scripts import NOTEBOOK_REPLY
from jupyter_opencode.notebook.mcp import INSTRUCTIONS
from jupyter_opencode.testing import FakeModelProcess

from .streams import Api, Frame, Opener, ask, final

SOURCES = ["a = 1", "b = a + 1", "print(b)"]


def write_notebook(root: Path, name: str, sources: list[str] = SOURCES) -> Path:
    """A small valid notebook with cell ids c0, c1, ..."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"c{i}") for i, src in enumerate(sources)]
    path = root / name
    path.write_text(nbformat.writes(nb))
    return path


def sources_of(path: Path) -> list[str]:
    """The cell sources of a notebook file, which must be valid."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return [cell.source for cell in nb.cells]


def calls(*steps: tuple[str, dict[str, Any]]) -> str:
    """A prompt making the fake model call notebook tools in order."""
    return " ".join(f"[[notebook {tool} {json.dumps(args)}]]" for tool, args in steps)


def asked(frames: list[Frame]) -> list[dict[str, Any]]:
    """The notebook diffs of the permission prompts seen."""
    return [f["permission"]["notebook"] for f in frames if f.get("kind") == "permission"]


async def test_change_a_closed_notebook_through_the_contents_manager(
    api: Api, open_stream: Opener, jp_root_dir: Path, fake_model: FakeModelProcess
) -> None:
    name = "closed.ipynb"
    path = write_notebook(jp_root_dir, name)
    sid = f"nb-{uuid.uuid4().hex[:8]}"
    text = calls(
        ("read_notebook", {"path": name}),
        ("edit_cell", {"path": name, "cell": 1, "source": "b = a + 41"}),
        ("insert_cell", {"path": name, "index": 3, "source": "# Done", "cell_type": "markdown"}),
        ("move_cell", {"path": name, "cell": "c2", "index": 0}),
        ("delete_cell", {"path": name, "cell": "c0"}),
    )
    frames, message = await ask(api, await open_stream(), sid, text, ["once"] * 4)
    assert message["status"] == "complete", message
    diffs = asked(frames)
    assert [d["tool"] for d in diffs] == ["edit_cell", "insert_cell", "move_cell", "delete_cell"]
    assert diffs[0]["before"] == "b = a + 1" and diffs[0]["after"] == "b = a + 41"
    assert diffs[1]["before"] is None and diffs[1]["after"] == "# Done"
    assert diffs[3]["before"] == "a = 1" and diffs[3]["after"] is None
    assert not any(d["live"] for d in diffs)
    assert sources_of(path) == ["print(b)", "b = a + 41", "# Done"]
    said = message["content"]
    assert said.startswith(NOTEBOOK_REPLY)
    system = json.dumps([m for m in fake_model.requests()[-1]["messages"] if m["role"] == "system"])
    assert json.dumps(INSTRUCTIONS)[1:-1] in system, "the agent was not told about notebooks"
    assert "closed.ipynb: 3 cells" in said and "--- cell 1 id=c1" in said
    assert "Edited cell; as re-read from the notebook file" in said and "b = a + 41" in said
    assert "Moved cell" in said and "Deleted cell 1 (id c0)" in said

    changes = ["sessions", sid, "messages", message["id"], "notebook-changes"]
    code, body = await api.call("GET", *changes)
    assert code == 200 and [c["op"] for c in body["changes"]] == [
        "set_source",
        "insert",
        "move",
        "delete",
    ]
    code, body = await api.call("POST", *changes)
    assert code == 200 and len(body["restored"]) == 4 and body["skipped"] == []
    restored = nbformat.read(path, as_version=4)
    assert [(c.id, c.source) for c in restored.cells] == [
        (f"c{i}", s) for i, s in enumerate(SOURCES)
    ]
    code, body = await api.call("GET", *changes)
    assert body["changes"] == []


async def test_undo_leaves_cells_the_user_edited_since(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "edited.ipynb")
    sid = "nb-edited-since"
    text = calls(
        ("edit_cell", {"path": "edited.ipynb", "cell": 0, "source": "a = 5"}),
        ("edit_cell", {"path": "edited.ipynb", "cell": 1, "source": "b = 6"}),
    )
    _, message = await ask(api, await open_stream(), sid, text, ["once", "once"])
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "b = 'mine'"
    nbformat.write(nb, path)
    code, body = await api.call(
        "POST", "sessions", sid, "messages", message["id"], "notebook-changes"
    )
    assert code == 200
    assert [r["cell_id"] for r in body["restored"]] == ["c0"]
    assert body["skipped"] == [
        {
            "path": "edited.ipynb",
            "cell_id": "c1",
            "op": "set_source",
            "reason": "the cell was edited since: left as it is",
        }
    ]
    assert sources_of(path) == ["a = 1", "b = 'mine'", "print(b)"]
    code, body = await api.call("POST", "sessions", sid, "messages", "nope", "notebook-changes")
    assert (code, body["reason"]) == (404, "unknown_message")


async def test_reject_leaves_the_notebook_and_tells_the_agent(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "rejected.ipynb")
    before = path.read_bytes()
    text = calls(("delete_cell", {"path": "rejected.ipynb", "cell": 0}))
    frames, message = await ask(api, await open_stream(), "nb-reject-1", text, ["reject"])
    assert asked(frames)[0]["before"] == "a = 1"
    assert path.read_bytes() == before
    assert "The user rejected this change: the notebook was not changed." in message["content"]


async def test_impossible_change_is_refused_without_asking(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "small.ipynb")
    text = calls(("edit_cell", {"path": "small.ipynb", "cell": 7, "source": "x"}))
    frames, message = await ask(api, await open_stream(), "nb-impossible", text, [])
    assert asked(frames) == []
    assert "cell index 7 is out of range: the notebook has 3 cells" in message["content"]
    assert sources_of(path) == SOURCES


async def test_opencode_own_edit_tools_may_not_touch_notebooks(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "guarded.ipynb")
    before = path.read_bytes()
    write = {"filePath": str(path), "content": "{}"}
    edit = {"filePath": str(path), "oldString": "a = 1", "newString": "a = 2"}
    text = f"[[call write {json.dumps(write)}]] [[call edit {json.dumps(edit)}]]"
    _, message = await ask(api, await open_stream(), "nb-guarded", text, [])
    assert path.read_bytes() == before
    assert message["content"].count("prevents you from using this specific tool call") == 2
    tools = [p for p in message["parts"] if p["kind"] == "tool"]
    assert [(t["name"], t["status"]) for t in tools] == [("write", "error"), ("edit", "error")]


async def test_tool_route_answers_the_worker_token_only(
    jp_serverapp: Any, jp_fetch: Any, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "direct.ipynb")
    before = path.read_bytes()
    url = f"{jp_serverapp.connection_url}opencode/notebook/mcp"
    worker = jp_serverapp.web_app.settings["jupyter_opencode_worker_token"]
    client = AsyncHTTPClient()

    async def post(tool: str, token: str, args: dict[str, Any]) -> tuple[int, Any]:
        call = {"name": tool, "arguments": args}
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}
        try:
            response = await client.fetch(
                url,
                method="POST",
                body=json.dumps(message),
                headers={"Authorization": f"token {token}"},
            )
        except HTTPClientError as e:
            assert e.response is not None
            response = e.response
        body = json.loads(response.body)
        return response.code, body.get("result") or body

    edit = {"path": "direct.ipynb", "cell": 0, "source": "hacked = True"}
    for token in (jp_serverapp.identity_provider.token, "wrong"):
        code, body = await post("read_notebook", token, {"path": "direct.ipynb"})
        assert (code, body["reason"]) == (403, "forbidden")
    code, result = await post("edit_cell", worker, edit)
    assert code == 200 and result["isError"]
    assert "was not approved by the user" in result["content"][0]["text"]
    code, result = await post("read_notebook", worker, {"path": "../outside.ipynb"})
    assert result["isError"] and "is not a notebook path" in result["content"][0]["text"]
    code, result = await post("read_notebook", worker, {"path": "direct.ipynb", "start": 2})
    assert not result["isError"]
    assert result["content"][0]["text"].startswith("direct.ipynb: 3 cells, showing 2 to 2")
    assert path.read_bytes() == before


async def test_unanswered_change_is_rejected_after_the_timeout(
    api: Api, open_stream: Opener, jp_root_dir: Path, jp_serverapp: Any
) -> None:
    jp_serverapp.web_app.settings["jupyter_opencode_notebook_tools"].approvals.timeout = 1.0
    path = write_notebook(jp_root_dir, "waiting.ipynb")
    stream = await open_stream()
    stream.subscribe("nb-timeout")
    await api.prompt("nb-timeout", calls(("delete_cell", {"path": "waiting.ipynb", "cell": 0})))
    frames = await stream.until(final("nb-timeout"))
    assert [f["permission"]["notebook"]["tool"] for f in frames if f.get("kind") == "permission"]
    said = frames[-1]["message"]["content"]
    assert "Nobody approved this change within 1 s: it was not made." in said
    assert sources_of(path) == SOURCES


async def test_live_socket_takes_no_kernel_token(jp_serverapp: Any, jp_ws_fetch: Any) -> None:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    token = jp_serverapp.web_app.settings["jupyter_opencode_kernel_token"]
    url = f"{jp_serverapp.connection_url.replace('http', 'ws', 1)}opencode/notebook/live"
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"})
    try:
        await websocket_connect(request)
    except HTTPClientError as e:
        assert e.code == 403
    else:
        raise AssertionError("a kernel token opened the live notebook socket")
    ws = await jp_ws_fetch("opencode", "notebook", "live")  # Jupyter's own token
    ws.close()


async def test_a_change_waits_for_a_client_and_shows_when_one_connects(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    path = write_notebook(jp_root_dir, "later.ipynb")
    sid = "nb-later-client"
    await api.prompt(sid, calls(("edit_cell", {"path": "later.ipynb", "cell": 2, "source": "b"})))
    await asyncio.sleep(3.0)  # nobody is connected: the change waits for an answer
    assert sources_of(path) == SOURCES
    stream = await open_stream()
    stream.subscribe(sid)
    frames = await stream.until(lambda f: f.get("kind") == "permission")
    prompt = frames[-1]["permission"]
    assert (prompt["notebook"]["before"], prompt["notebook"]["after"]) == ("print(b)", "b")
    reply = {"reply": "once"}
    code, _ = await api.call("POST", "sessions", sid, "permissions", prompt["id"], body=reply)
    assert code == 200
    message = (await stream.until(final(sid)))[-1]["message"]
    assert "Edited cell" in message["content"]
    assert sources_of(path) == ["a = 1", "b = a + 1", "b"]


async def test_the_agent_is_told_which_notebook_the_conversation_belongs_to(
    api: Api, fake_model: FakeModelProcess
) -> None:
    sid = f"nb-{uuid.uuid4().hex[:8]}"
    answer = await api.ask(sid, "fix the cell above", notebook_path="work/analysis.ipynb")
    assert answer["status"] == "complete", answer
    _, session = await api.call("GET", "sessions", sid)
    assert session["notebook_path"] == "work/analysis.ipynb"
    request = next(
        r for r in reversed(fake_model.requests())
        if any("fix the cell above" in json.dumps(m) for m in r["messages"])
    )  # fmt: skip
    system = json.dumps([m for m in request["messages"] if m["role"] == "system"])
    assert "belongs to the notebook `work/analysis.ipynb`" in system
    unbound = await api.ask(f"nb-{uuid.uuid4().hex[:8]}", "and without a notebook?")
    assert unbound["status"] == "complete"
    request = next(
        r for r in reversed(fake_model.requests())
        if any("and without a notebook?" in json.dumps(m) for m in r["messages"])
    )  # fmt: skip
    assert "belongs to the notebook" not in json.dumps(request["messages"])


async def test_rewinding_before_an_answer_offers_to_undo_its_notebook_changes(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    name = "rewound.ipynb"
    path = write_notebook(jp_root_dir, name)
    before = path.read_text()
    sid = f"nb-{uuid.uuid4().hex[:8]}"
    stream = await open_stream()
    text = calls(
        ("edit_cell", {"path": name, "cell": 0, "source": "a = 2"}),
        ("delete_cell", {"path": name, "cell": "c2"}),
    )
    _, answer = await ask(api, stream, sid, text, ["once", "once"])
    assert sources_of(path) == ["a = 2", "b = a + 1"]
    await api.prompt(sid, "no tools this time")  # still subscribed: no replay of the first
    later = await stream.until(lambda f: final(sid)(f) and f["message"]["id"] != answer["id"])
    plain = later[-1]["message"]
    code, body = await api.call("GET", "sessions", sid, "messages")
    assert code == 200, body
    question = next(m for m in body["messages"] if m["role"] == "user")

    code, body = await api.call("DELETE", "sessions", sid, "messages", question["id"])
    assert code == 200, body
    assert answer["id"] in body["removed"] and plain["id"] in body["removed"]
    assert body["notebook_changes"] == [answer["id"]]
    rewound = await stream.until(lambda f: f.get("type") == "rewind")
    assert rewound[-1]["notebook_changes"] == [answer["id"]]

    changes = ["sessions", sid, "messages", answer["id"], "notebook-changes"]
    code, body = await api.call("GET", *changes)
    assert code == 200 and [c["op"] for c in body["changes"]] == ["set_source", "delete"]
    code, body = await api.call("POST", *changes)
    assert code == 200 and len(body["restored"]) == 2 and body["skipped"] == []
    restored = nbformat.read(path, as_version=4)
    assert [(c.id, c.source) for c in restored.cells] == [
        (f"c{i}", s) for i, s in enumerate(SOURCES)
    ]
    assert nbformat.reads(before, as_version=4).cells == restored.cells
    code, body = await api.call(
        "POST", "sessions", sid, "messages", plain["id"], "notebook-changes"
    )
    assert (code, body["reason"]) == (404, "unknown_message")
