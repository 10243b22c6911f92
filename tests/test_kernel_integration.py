"""The kernel side against the real stack: a kernel of the test's Jupyter server, the extension,
the real opencode and the fake model."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.asynchronous import AsyncKernelClient

from jupyter_opencode.demo.scripts import DEMO_CODE, TITLE_MARKER, message_text
from jupyter_opencode.testing import FakeModelProcess, expected_text

from .streams import Api, Frame, Opener, StreamClient, final, text_of, time_limit

SETUP = "import json\nfrom jupyter_opencode import Chat\nchat = Chat()\n"
SRC = str(Path(__file__).resolve().parents[1] / "src")

Message = dict[str, Any]


@dataclass
class Execution:
    """What one executed cell produced on iopub, and its shell reply."""

    reply: Message
    outputs: list[Message] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        """Everything the cell printed."""
        return "".join(
            m["content"]["text"]
            for m in self.outputs
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def json(self) -> Any:
        """The last printed line, parsed as JSON."""
        return json.loads(self.stdout.strip().splitlines()[-1])


class Kernel:
    """A kernel of the test's server, recording every iopub message."""

    def __init__(self, client: AsyncKernelClient) -> None:
        self.client = client
        self.iopub: list[Message] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            self.iopub.append(await self.client.get_iopub_msg())

    async def run(self, code: str, timeout: float = 90.0) -> Execution:
        """Execute `code` and wait until the kernel is idle again; fail on an unexpected error."""
        execution = await self.execute(code, timeout)
        assert execution.reply["content"]["status"] == "ok", execution.reply["content"]
        return execution

    async def execute(self, code: str, timeout: float = 90.0) -> Execution:
        """Execute `code` and wait until the kernel is idle again."""
        msg_id = self.client.execute(code)
        async with time_limit(timeout):
            while True:
                reply = await self.client.get_shell_msg()
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            while not any(
                m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                for m in self.outputs_of(msg_id)
            ):
                await asyncio.sleep(0.01)
        return Execution(reply, self.outputs_of(msg_id))

    def outputs_of(self, msg_id: str) -> list[Message]:
        """iopub messages whose parent is the request `msg_id`."""
        return [m for m in self.iopub if m["parent_header"].get("msg_id") == msg_id]

    def close(self) -> None:
        """Stop reading and close the channels."""
        self._reader.cancel()
        self.client.stop_channels()


Starter = Callable[[], Awaitable[Kernel]]


@pytest.fixture
def start_kernel(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Starter]:
    """Starts kernels of the test's server (listening, so kernels reach it); shuts them down."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    )
    manager = jp_serverapp.kernel_manager
    kernels: list[tuple[str, Kernel]] = []

    async def start() -> Kernel:
        kernel_id = await manager.start_kernel()
        client = manager.get_kernel(kernel_id).client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        kernel = Kernel(client)
        kernels.append((kernel_id, kernel))
        return kernel

    yield start
    for kernel_id, kernel in kernels:
        kernel.close()
        jp_asyncio_loop.run_until_complete(manager.shutdown_kernel(kernel_id, now=True))


async def test_ask_returns_the_scripted_reply(start_kernel: Starter) -> None:
    kernel = await start_kernel()
    question = "How do I print a greeting?"
    execution = await kernel.run(
        "import json, jupyter_opencode\n"
        "from jupyter_opencode import Chat\n"
        f"reply = Chat().ask({question!r})\n"
        "print(json.dumps({'text': reply.text, 'status': reply.status, 'code': reply.code,"
        " 'module': jupyter_opencode.__file__}))"
    )
    assert execution.json() == {
        "text": expected_text(question),
        "status": "complete",
        "code": [DEMO_CODE],
        "module": str(Path(SRC, "jupyter_opencode", "__init__.py")),
    }


async def test_a_session_named_before_it_exists_is_created_quietly(start_kernel: Starter) -> None:
    kernel = await start_kernel()
    await kernel.run(
        "import time\nfrom jupyter_opencode import Chat\n"
        "chat = Chat(session='sess-named-ahead')\ntime.sleep(3)"  # its lookups answer 404
    )
    execution = await kernel.run("print(chat.ask('Hello there').status)")
    assert execution.stdout.strip() == "complete"
    printed = [m["content"]["text"] for m in kernel.iopub if m["msg_type"] == "stream"]
    assert printed == ["complete\n"]


async def test_reply_streams_while_another_cell_sleeps(
    start_kernel: Starter, open_stream: Opener
) -> None:
    kernel = await start_kernel()
    stream = await open_stream()
    sid = (await kernel.run(SETUP + "print(json.dumps(chat.session_id))")).json()
    stream.subscribe(sid)
    question = "[[slow:100:0.05]] keep talking"
    await kernel.run(
        "import threading\n"
        "replies = []\n"
        f"asker = threading.Thread(target=lambda: replies.append(chat.ask({question!r},"
        " display_reply=False)))\n"
        "asker.start()"
    )
    await stream.until(lambda f: f.get("kind") == "text")
    arrivals: list[tuple[float, Frame]] = []
    listening = asyncio.ensure_future(_timed_until(stream, final(sid), arrivals))
    window = (
        await kernel.run(
            "import time\nstarted = time.time()\ntime.sleep(3)\n"
            "print(json.dumps([started, time.time()]))"
        )
    ).json()
    await listening
    reply = (
        await kernel.run("asker.join(60)\nprint(json.dumps([replies[0].text, replies[0].status]))")
    ).json()
    assert reply == [expected_text(question), "complete"]
    assert text_of(stream.frames, sid) == expected_text(question)

    def during(moment: float) -> bool:
        return window[0] < moment < window[1]

    # The server kept streaming while the kernel slept...
    chunks = [t for t, f in arrivals if f.get("kind") == "text" and during(t)]
    assert len(chunks) >= 20, f"{len(chunks)} text chunks during the sleep"
    # ...and the kernel kept publishing frames to the panel: its main thread was asleep, so
    # these came from the client's background thread.
    frames = [
        (_sent_at(m), m["content"]["data"]["content"])
        for m in kernel.iopub
        if m["msg_type"] == "comm_msg"
        and m["content"]["data"].get("method") == "custom"
        and m["content"]["data"]["content"]["type"] == "frames"
    ]
    deltas = [f["delta"] for _, c in frames for f in c["frames"] if f.get("kind") == "text"]
    assert "".join(deltas) == expected_text(question)
    published = [
        c for t, c in frames if during(t) and any(f.get("kind") == "text" for f in c["frames"])
    ]
    assert len(published) >= 10, f"{len(published)} frames of deltas published during the sleep"


# Records every write of a synced Chat trait with the thread that made it, from the start.
TRAIT_GUARD = """
import json, threading
from jupyter_opencode.kernel.widget import Chat
synced = set(Chat.class_trait_names(sync=True))
writes = []
plain_setattr = Chat.__setattr__
def guarded_setattr(self, name, value):
    if name in synced:
        writes.append((name, threading.current_thread().name))
    plain_setattr(self, name, value)
Chat.__setattr__ = guarded_setattr
chat = Chat()
print(json.dumps([chat.comm.comm_id, chat.session_id]))
"""


def to_widget(kernel: Kernel, comm_id: str, content: dict[str, Any]) -> None:
    """Send a custom message to the widget, as its browser view does."""
    data = {"method": "custom", "content": content}
    msg = kernel.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kernel.client.shell_channel.send(msg)


async def poll(kernel: Kernel, expression: str, done: Callable[[Any], bool]) -> Any:
    """Evaluate `expression` in the kernel (printed as JSON) until `done` holds for it."""
    async with time_limit(90):
        while True:
            value = (await kernel.run(f"print(json.dumps({expression}))")).json()
            if done(value):
                return value
            await asyncio.sleep(0.2)


def widget_messages(kernel: Kernel, comm_id: str) -> list[tuple[float, dict[str, Any]]]:
    """When the kernel published each comm message of the widget, and its data."""
    return [
        (_sent_at(m), m["content"]["data"])
        for m in kernel.iopub
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
    ]


async def test_synced_traits_are_set_on_the_kernel_thread_only(start_kernel: Starter) -> None:
    """Through an answer, a model list, a reconnect, an edit and a rewind: all on one thread."""
    kernel = await start_kernel()
    comm_id, first_sid = (await kernel.run(TRAIT_GUARD)).json()
    await poll(kernel, "chat.connection", lambda c: c == "connected")
    to_widget(kernel, comm_id, {"type": "send", "text": "Say hello"})
    statuses = "[(m['role'], m['status']) for m in chat.messages]"
    await poll(kernel, statuses, lambda s: s == [["user", "complete"], ["assistant", "complete"]])
    await poll(kernel, "chat.busy", lambda busy: busy is False)
    # The model list and the session list again (the browser's "ready").
    await kernel.run("chat.models = []")
    to_widget(kernel, comm_id, {"type": "ready"})
    await poll(kernel, "[len(chat.models), len(chat.sessions)]", lambda n: n[0] > 0 and n[1] > 0)
    # A reconnect: the socket drops, the client connects again.
    await kernel.run("chat._client._loop.call_soon_threadsafe(chat._client._ws.close)")
    await poll(
        kernel, "[state for state, _ in writes if state == 'connection']", lambda w: len(w) >= 3
    )
    await poll(kernel, "chat.connection", lambda c: c == "connected")
    # Edit and resend: the panel switches to the new branch (answered on another thread).
    user_id = (await kernel.run("print(json.dumps(chat.messages[0]['id']))")).json()
    to_widget(kernel, comm_id, {"type": "edit", "message_id": user_id, "text": "Say hi"})
    await poll(kernel, "chat.session_id", lambda sid: sid != first_sid)
    await poll(kernel, statuses, lambda s: s == [["user", "complete"], ["assistant", "complete"]])
    # A rewind of the whole exchange, from the panel.
    user_id = (await kernel.run("print(json.dumps(chat.messages[0]['id']))")).json()
    to_widget(kernel, comm_id, {"type": "rewind", "message_id": user_id})
    await poll(kernel, "len(chat.messages)", lambda n: n == 0)
    await poll(kernel, "chat.busy", lambda busy: busy is False)

    writes = (await kernel.run("print(json.dumps(writes))")).json()
    written = {n for n, _ in writes}
    assert {"busy", "connection", "models", "sessions", "title", "session_id"} <= written
    assert [w for w in writes if w[1] != "MainThread"] == []


async def test_panel_stays_live_while_a_cell_runs(start_kernel: Starter) -> None:
    """An answer sent from the panel streams, and its status moves, while a cell sleeps."""
    kernel = await start_kernel()
    comm_id, _sid = (await kernel.run(TRAIT_GUARD)).json()
    await kernel.run("chat.ask('warm up', display_reply=False)")
    to_widget(kernel, comm_id, {"type": "send", "text": "[[slow:30:0.05]] go"})
    # The cell holds the kernel's thread until the answer is complete (read off the thread),
    # and a moment more for the state that follows it.
    window = (
        await kernel.run(
            "import time\nstarted = time.time()\n"
            "def answered():\n"
            "    done = [m for m in chat.messages if m['role'] == 'assistant']\n"
            "    return sum(m['status'] == 'complete' for m in done) >= 2\n"
            "while not answered() and time.time() - started < 60:\n"
            "    time.sleep(0.05)\n"
            "time.sleep(1)\n"
            "print(json.dumps([started, time.time()]))"
        )
    ).json()
    await poll(kernel, "chat.busy", lambda busy: busy is False)

    def during(moment: float) -> bool:
        return window[0] < moment < window[1]

    sent = widget_messages(kernel, comm_id)
    live = [d["content"] for t, d in sent if during(t) and d.get("method") == "custom"]
    states = [c["state"] for c in live if c["type"] == "state"]
    frames = [f for c in live if c["type"] == "frames" for f in c["frames"]]
    deltas = [f["delta"] for f in frames if f.get("kind") == "text"]
    assert "".join(deltas).startswith("s0 s1")
    # The status moved during the sleep: the server's status frames reached the panel, and
    # busy went on and off as live state messages...
    statuses = [f["status"] for f in frames if f.get("kind") == "status"]
    assert "thinking" in statuses, frames
    busy = [s["busy"] for s in states if "busy" in s]
    assert True in busy and busy[-1] is False, states
    versions = [c["version"] for c in live if c["type"] == "state"]
    assert versions == sorted(versions)
    # ...while the traits themselves waited for the kernel's thread: no state update meanwhile,
    assert [d for t, d in sent if during(t) and d.get("method") == "update"] == []
    # then one update, after the cell, carrying the newest version.
    updates = [d["state"] for t, d in sent if t > window[1] and d.get("method") == "update"]
    assert updates[0]["state_version"] >= versions[-1] and updates[0].get("busy") is False
    writes = (await kernel.run("print(json.dumps(writes))")).json()
    assert [w for w in writes if w[1] != "MainThread"] == []


async def test_insert_takes_the_code_from_the_kernels_conversation(start_kernel: Starter) -> None:
    """The panel names an answer and a block; the kernel sends that code, or says it has none."""
    kernel = await start_kernel()
    comm_id, _sid = (await kernel.run(TRAIT_GUARD)).json()
    question = "How do I print a greeting?"
    user_id, answer_id = (
        await kernel.run(
            f"reply = chat.ask({question!r}, display_reply=False)\n"
            "print(json.dumps([m['id'] for m in chat.messages]))"
        )
    ).json()
    requests: list[dict[str, Any]] = [
        {"message_id": answer_id, "block": 0, "run": True},
        {"message_id": answer_id, "block": 1},
        {"message_id": answer_id, "block": "0"},
        {"message_id": user_id, "block": 0},
        {"message_id": "no-such-message", "block": 0},
        {"code": "pwned = 1", "run": True},
    ]
    for request in requests:
        to_widget(kernel, comm_id, {"type": "insert", **request})
    await kernel.run("pass")  # the kernel handled the messages sent before this cell

    custom = [
        d["content"] for _, d in widget_messages(kernel, comm_id) if d.get("method") == "custom"
    ]
    inserts = [c for c in custom if c["type"] == "insert-cell"]
    assert inserts == [
        {"type": "insert-cell", "code": DEMO_CODE, "run": True, "message_id": answer_id, "block": 0}
    ]
    refused = [c["text"] for c in custom if c["type"] == "notice" and c["level"] == "error"]
    assert refused == ["Cannot insert: that code block is not in this conversation."] * 5


async def test_failing_cell_context_reaches_the_model(
    start_kernel: Starter, api: Api, fake_model: FakeModelProcess
) -> None:
    kernel = await start_kernel()
    await kernel.run(SETUP)
    failed = await kernel.execute("{}['colour']")
    assert (failed.reply["content"]["status"], failed.reply["content"]["ename"]) == (
        "error", "KeyError"
    )  # fmt: skip
    # The open panel refreshed its auto-context chip; a new Chat picks the failed cell up too.
    questions = ["why does it fail?", "why does it fail, new chat?"]
    answers = (
        await kernel.run(
            f"asked = [(chat, {questions[0]!r}), (Chat(), {questions[1]!r})]\n"
            "replies = [(c.session_id, c.ask(q, display_reply=False)) for c, q in asked]\n"
            "print(json.dumps([(sid, r.text, r.status) for sid, r in replies]))"
        )
    ).json()

    prompts = _prompts(fake_model)
    for question, (sid, text, status) in zip(questions, answers, strict=True):
        seen = [p for p in prompts if p.rstrip().endswith(question)]
        assert len(seen) == 1
        for needed in ("Traceback (most recent call last)", "{}['colour']", "KeyError: 'colour'"):
            assert needed in seen[0]
        assert (text, status) == (expected_text(seen[0]), "complete")
        assert "raised KeyError: 'colour'" in text

        user = (await api.messages(sid))[0]
        assert user["content"] == question
        assert [(c["kind"], c["label"]) for c in user["context"]] == [
            ("error", "Error in [2]: KeyError")
        ]
        assert "Traceback (most recent call last)" in user["context"][0]["text"]
        assert "KeyError: 'colour'" in user["context"][0]["text"]


async def test_cell_magic_renders_markdown(start_kernel: Starter) -> None:
    kernel = await start_kernel()
    await kernel.run("%load_ext jupyter_opencode")
    question = "Explain list comprehensions"
    execution = await kernel.run(f"%%opencode\n{question}\n")
    shown = [
        m for m in execution.outputs
        if m["msg_type"] in ("display_data", "update_display_data")
        and "text/markdown" in m["content"]["data"]
    ]  # fmt: skip
    assert shown and shown[0]["msg_type"] == "display_data"
    assert {m["content"]["transient"]["display_id"] for m in shown} == {
        shown[0]["content"]["transient"]["display_id"]
    }
    assert shown[-1]["content"]["data"]["text/markdown"] == expected_text(question)


async def _timed_until(
    stream: StreamClient, done: Callable[[Frame], bool], into: list[tuple[float, Frame]]
) -> None:
    """Read frames until one satisfies `done`, with the time each one arrived."""
    async with time_limit(90):
        while True:
            frame = await stream.next()
            into.append((time.time(), frame))
            if done(frame):
                return


def _sent_at(message: Message) -> float:
    """When the kernel published a message (unix seconds)."""
    date = message["header"]["date"]
    return (date if isinstance(date, datetime) else datetime.fromisoformat(date)).timestamp()


def _prompts(fake_model: FakeModelProcess) -> list[str]:
    """The last user text of every chat request the fake model received (titles excluded)."""
    prompts = []
    for request in fake_model.requests():
        messages = request.get("messages", [])
        if any(m.get("role") == "system" and TITLE_MARKER in message_text(m) for m in messages):
            continue
        users = [message_text(m) for m in messages if m.get("role") == "user"]
        if users:
            prompts.append(users[-1])
    return prompts
