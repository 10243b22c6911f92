"""The kernel side under faults: a server gone for good, and a kernel that dies mid-answer."""

from __future__ import annotations

import time
from typing import Any

from jupyter_opencode.kernel import Chat, ServerClient
from jupyter_opencode.testing import expected_text

from .streams import Opener
from .test_kernel_integration import SETUP, Kernel, Starter, start_kernel  # noqa: F401
from .test_kernel_widget import TOKEN, Relay, from_browser, relay, server, wait_for

__all__ = ["relay", "server"]  # the real server behind a relay, shared with the widget tests


def test_reconnect_gives_up_after_five_tries_then_retries(relay: Relay) -> None:
    client = ServerClient(relay.url, TOKEN, connect_timeout=1.0, initial_backoff=0.02,
                          max_backoff=0.05)  # fmt: skip
    chat = Chat(client=client)
    try:
        wait_for(lambda: chat.connection == "connected")
        states: list[str] = []
        chat.observe(lambda change: states.append(change["new"]), names="connection")
        relay.refuse()
        wait_for(lambda: chat.connection == "disconnected", timeout=10)
        assert states[0] == "reconnecting"
        assert "gave up after 5 tries" in chat.connection_error
        assert relay.url in chat.connection_error
        time.sleep(0.3)  # no more tries until the user asks
        assert chat.connection == "disconnected"
        relay.accept()
        from_browser(chat, {"type": "retry"})
        wait_for(lambda: chat.connection == "connected", timeout=10)
    finally:
        chat.close()
        client.close()


async def test_kernel_restarted_mid_answer_a_new_chat_shows_the_rest(
    jp_serverapp: Any,
    start_kernel: Starter,  # noqa: F811
    open_stream: Opener,
) -> None:
    first = await start_kernel()
    stream = await open_stream()
    sid = (await first.run(SETUP + "print(json.dumps(chat.session_id))")).json()
    stream.subscribe(sid)
    question = "[[slow:150:0.03]] outlive the kernel"
    await first.run(
        "import threading\n"
        f"threading.Thread(target=lambda: chat.ask({question!r}, display_reply=False)).start()"
    )
    await stream.until(lambda f: f.get("kind") == "text")
    manager = jp_serverapp.kernel_manager
    (kernel_id,) = manager.list_kernel_ids()
    await manager.restart_kernel(kernel_id, now=True)  # the kernel dies mid-answer
    # A client of its own for the new kernel: one reader per iopub socket, never two at once.
    first.close()
    client = manager.get_kernel(kernel_id).client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    second = Kernel(client)
    try:
        shown = await second.run(
            "import json, time\nfrom jupyter_opencode import Chat\n"
            f"chat = Chat(session={sid!r})\n"
            "deadline = time.time() + 60\n"
            "while time.time() < deadline and not (chat.messages and chat.messages[-1]"
            "['status'] == 'complete'):\n"
            "    time.sleep(0.1)\n"
            "print(json.dumps([chat.messages[-1]['status'], chat.messages[-1]['content']]))"
        )
    finally:
        second.close()
    assert shown.json() == ["complete", expected_text(question)]
