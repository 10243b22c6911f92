"""The library from Python and the panel's slash commands: a real kernel, server and opencode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import FakeModelProcess

from .streams import Api
from .test_kernel_integration import Kernel, Starter, start_kernel

__all__ = ["start_kernel"]  # the fixture, shared with the kernel integration tests

SETUP = (
    "import json, os\n"
    "os.environ['JPY_SESSION_NAME'] = {path!r}\n"
    "from jupyter_opencode import Chat\n"
    "from jupyter_opencode.kernel import panel\n"
    "chat = Chat()\n"
    "for q in ['load the sales ledger', 'now pivot the quarterly revenue']:\n"
    "    chat.ask(q, display_reply=False)\n"
    "print(json.dumps(chat.session_id))\n"
)


def _customs(kernel: Kernel, kind: str) -> list[dict[str, Any]]:
    return [
        m["content"]["data"]["content"]
        for m in kernel.iopub
        if m["msg_type"] == "comm_msg"
        and m["content"]["data"].get("method") == "custom"
        and m["content"]["data"]["content"].get("type") == kind
    ]


async def _eventually(check: Any, timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.1)
    return result


async def test_python_search_fork_and_rewind(
    start_kernel: Starter, api: Api, jp_root_dir: Path, fake_model: FakeModelProcess
) -> None:
    kernel = await start_kernel()
    notebook = jp_root_dir / "reports" / "sales.ipynb"
    sid = (await kernel.run(SETUP.format(path=str(notebook)))).json()
    session = (await api.call("GET", "sessions", sid))[1]
    assert session["notebook_path"] == "reports/sales.ipynb" and session["message_count"] == 4
    code, listed = await api.call("GET", "sessions", notebook="reports/sales.ipynb")
    assert code == 200
    assert [s["id"] for s in listed["sessions"]] == [sid]

    hits = (await kernel.run("print(json.dumps(chat.search('quarter')))")).json()
    assert hits and hits[0]["session_id"] == sid and "quarterly" in hits[0]["snippet"]

    first_answer = (await api.messages(sid))[1]["id"]
    forked = (
        await kernel.run(
            f"fork = chat.fork({first_answer!r})\n"
            "print(json.dumps([fork, chat.session_id, len(chat.messages)]))"
        )
    ).json()
    assert forked[0] == forked[1] != sid
    assert [m["role"] for m in await api.messages(forked[0])] == ["user", "assistant"]

    removed = (
        await kernel.run(
            f"chat.load({sid!r})\n"
            "import time\n"
            "deadline = time.time() + 30\n"
            "while len(chat.messages) < 4 and time.time() < deadline: time.sleep(0.05)\n"
            "removed = chat.rewind()\n"
            "print(json.dumps([removed, [m['content'] for m in chat.messages]]))"
        )
    ).json()
    assert len(removed[0]) == 2 and removed[1] == [m["content"] for m in await api.messages(sid)]
    assert len(removed[1]) == 2 and "pivot" not in json.dumps(removed[1])
    # The panel is told by a rewind frame, which its conversation applies like the server's.
    rewinds = [f for m in _customs(kernel, "frames") for f in m["frames"] if f["type"] == "rewind"]
    assert rewinds[0]["removed"] == removed[0] and rewinds[0]["session_id"] == sid


async def test_slash_commands(
    start_kernel: Starter, api: Api, fake_model: FakeModelProcess
) -> None:
    kernel = await start_kernel()
    sid = (await kernel.run(SETUP.format(path="/elsewhere/x.ipynb"))).json()

    async def command(text: str) -> None:
        # What the panel sends for a command the kernel executes (js/src/commands.js).
        name, _, arg = text[1:].partition(" ")
        message = {"type": "command", "name": name, "arg": arg}
        await kernel.run(f"panel.handle_browser_message(chat, {message!r})")

    async def session() -> dict[str, Any]:
        return (await api.call("GET", "sessions", sid))[1]

    await command("/rename Quarterly revenue review")
    await _eventually(lambda: _title_is(api, sid, "Quarterly revenue review"))
    await command("/star")
    await _eventually(lambda: _field(api, sid, "starred", True))
    await command("/tag finance")
    await _eventually(lambda: _field(api, sid, "tags", ["finance"]))
    await command("/tag -finance")
    await _eventually(lambda: _field(api, sid, "tags", []))

    await command("/search ledger")

    async def results() -> list[dict[str, Any]]:
        return _customs(kernel, "search_results")

    found = (await _eventually(results))[-1]
    assert found["query"] == "ledger" and found["hits"][0]["session_id"] == sid

    last_user = (await api.messages(sid))[-2]["id"]
    await kernel.run(
        f"panel.handle_browser_message(chat, {{'type': 'rewind', 'message_id': {last_user!r}}})"
    )
    await _eventually(lambda: _field(api, sid, "message_count", 2))
    assert (await session())["notebook_path"] == "/elsewhere/x.ipynb"

    code, _ = await api.call(
        "POST", "templates", body={"name": "terse", "instructions": "Answer like a telegram."}
    )
    assert code == 201
    await command("/template terse")
    notices = await _eventually(lambda: _notices(kernel, "type /new first"))
    assert notices  # the current conversation has messages: refused
    await kernel.run("chat.new()")
    await command("/template terse")
    await _eventually(lambda: _notices(kernel, "Template terse applies"))
    sid2 = (
        await kernel.run(
            "reply = chat.ask('summarise', display_reply=False)\nprint(json.dumps(chat.session_id))"
        )
    ).json()
    assert (await api.messages(sid2))[1]["status"] == "complete"
    asked = [r for r in fake_model.requests() if "summarise" in json.dumps(r.get("messages"))]
    assert "Answer like a telegram." in json.dumps(asked[-1]["messages"])
    await command("/tag")
    assert await _eventually(lambda: _notices(kernel, "/tag needs an argument"))


async def _title_is(api: Api, sid: str, title: str) -> bool:
    return bool((await api.call("GET", "sessions", sid))[1]["title"] == title)


async def _field(api: Api, sid: str, name: str, value: Any) -> bool:
    return bool((await api.call("GET", "sessions", sid))[1][name] == value)


async def _notices(kernel: Kernel, text: str) -> list[dict[str, Any]]:
    return [n for n in _customs(kernel, "notice") if text in n.get("text", "")]


async def test_panel_actions(start_kernel: Starter, api: Api) -> None:
    kernel = await start_kernel()
    sid = (await kernel.run(SETUP.format(path="/elsewhere/y.ipynb"))).json()
    first, answer, second, _ = await api.messages(sid)

    async def action(**content: Any) -> None:
        await kernel.run(f"panel.handle_browser_message(chat, {content!r})")

    await action(type="annotate", message_id=answer["id"], rating="up", note="keep this")

    async def annotated() -> bool:
        message = (await api.messages(sid))[1]
        return message["annotation"] == {"rating": "up", "note": "keep this"}

    await _eventually(annotated)
    sent = await _eventually(lambda: _async(_customs(kernel, "annotation")))
    assert sent[-1] == {
        "type": "annotation", "message_id": answer["id"],
        "annotation": {"rating": "up", "note": "keep this"},
    }  # fmt: skip

    await action(type="edit", message_id=second["id"], text="now pivot the monthly revenue")

    async def switched() -> str | None:
        current = (await kernel.run("print(json.dumps(chat.session_id))")).json()
        return current if current != sid else None

    branch = await _eventually(switched)
    messages = await _eventually(lambda: _answered(api, branch, 4))
    assert [m["content"] for m in messages[:3]] == [
        first["content"], answer["content"], "now pivot the monthly revenue"
    ]  # fmt: skip
    assert len(await api.messages(sid)) == 4

    await action(type="rewind", message_id=messages[2]["id"])
    await _eventually(lambda: _field(api, branch, "message_count", 2))
    shown = (await kernel.run("print(json.dumps(len(chat.messages)))")).json()
    assert shown == 2


async def _async(value: Any) -> Any:
    return value


async def _answered(api: Api, sid: str, count: int) -> list[dict[str, Any]] | None:
    code, body = await api.call("GET", "sessions", sid, "messages")
    messages = body["messages"] if code == 200 else []
    done = len(messages) == count and messages[-1]["status"] == "complete"
    return messages if done else None
