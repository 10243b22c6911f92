"""Cell recording, auto-context and attachments, with a real IPython shell."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import comm
import pandas as pd
import pytest
from comm.base_comm import BaseComm
from IPython.core.interactiveshell import InteractiveShell

from jupyter_opencode.kernel import Chat, ServerClient
from jupyter_opencode.kernel.commands import CommandError, context_count
from jupyter_opencode.kernel.context import (
    ATTACHMENT_BUDGET,
    CellRecorder,
    describe,
    new_attachment,
    truncate,
)
from jupyter_opencode.kernel.panel import run_command


class SilentComm(BaseComm):
    """A comm that publishes nowhere."""

    def publish_msg(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    yield shell
    shell.last_execution_result = None
    CellRecorder._by_shell.pop(shell, None)
    for event in ("pre_run_cell", "post_run_cell"):
        for callback in list(shell.events.callbacks[event]):
            if getattr(callback, "__self__", None).__class__ is CellRecorder:
                shell.events.unregister(event, callback)


@pytest.fixture
def offline_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerClient]:
    monkeypatch.setattr(comm, "create_comm", SilentComm)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ServerClient(f"http://127.0.0.1:{port}/", "t", connect_timeout=0.2)
    yield client
    client.close()


def test_recorder_records_output_result_and_traceback(shell: InteractiveShell) -> None:
    recorder = CellRecorder.install(shell)
    assert CellRecorder.install(shell) is recorder
    shell.run_cell("print('hello out')\n21 * 2", store_history=True)
    shell.run_cell("def f(x):\n    return 1 / x\n\nf(0)", store_history=True)
    ok, failed = recorder.last(2)
    # A terminal shell also prints "Out[1]: 42" to stdout; ipykernel sends it over IOPub.
    assert ok.stdout.startswith("hello out\n") and ok.result == "42" and not ok.failed
    assert failed.failed and failed.error_name == "ZeroDivisionError"
    assert failed.error_value == "division by zero"
    assert failed.traceback.startswith("Traceback (most recent call last):")
    assert "return 1 / x" in failed.traceback
    assert "interactiveshell.py" not in failed.traceback
    assert failed.label == f"Error in [{failed.execution_count}]: ZeroDivisionError"
    text = failed.render()
    assert "def f(x):" in text and "ZeroDivisionError: division by zero" in text


def test_recorder_ring_buffer_and_stream_tail(shell: InteractiveShell) -> None:
    recorder = CellRecorder.install(shell)
    for i in range(60):
        shell.run_cell(f"x = {i}", store_history=True)
    assert len(recorder.records) == 50
    assert recorder.last(1)[0].source == "x = 59"
    shell.run_cell("print('y' * 10_000)", store_history=True)
    assert len(recorder.last(1)[0].stdout) <= 1500


def test_auto_context_tracks_the_last_cell_not_chat_cells(
    shell: InteractiveShell, offline_client: ServerClient
) -> None:
    CellRecorder.install(shell)
    shell.user_ns["client"] = offline_client
    shell.run_cell("import jupyter_opencode.kernel as k", store_history=True)
    shell.run_cell("chat = k.Chat(client=client)", store_history=True)
    chat = shell.user_ns["chat"]
    # The cell before the Chat is offered; the cell creating it never is.
    assert [c["text"].splitlines()[2] for c in chat.context] == [
        "import jupyter_opencode.kernel as k"
    ]
    shell.run_cell("values = [1, 2, 3]\nsum(values)", store_history=True)
    (chip,) = chat.context
    assert chip["kind"] == "cell" and "sum(values)" in chip["text"] and "6" in chip["text"]
    shell.run_cell("values['a']", store_history=True)
    (chip,) = chat.context
    assert chip["kind"] == "error" and "TypeError" in chip["label"]
    assert "list indices must be integers" in chip["text"]
    shell.run_cell("chat")  # displaying the panel is not context
    assert chat.context == [chip]
    shell.run_cell("chat.auto_context = False", store_history=True)
    assert chat.context == []
    chat.close()


def test_first_chat_offers_the_error_of_the_cell_before_it(
    shell: InteractiveShell, offline_client: ServerClient
) -> None:
    shell.run_cell("{'color': 1}['colour']", store_history=True)
    shell.user_ns["client"] = offline_client
    shell.run_cell("import jupyter_opencode.kernel as k\nchat = k.Chat(client=client)")
    chat = shell.user_ns["chat"]
    (chip,) = chat.context
    assert chip["kind"] == "error" and chip["label"].endswith("KeyError")
    assert "['colour']" in chip["text"] and "KeyError: 'colour'" in chip["text"]
    chat.close()


def test_context_command_attaches_the_last_cells(
    shell: InteractiveShell, offline_client: ServerClient
) -> None:
    chat = Chat(client=offline_client, auto_context=False)
    shell.run_cell("a = 1", store_history=True)
    shell.run_cell("b = 2", store_history=True)
    run_command(chat, "context", "2")
    assert [c["text"].splitlines()[2] for c in chat.context] == ["a = 1", "b = 2"]
    chat.close()


def test_attach_dataframe_summary(shell: InteractiveShell, offline_client: ServerClient) -> None:
    df = pd.DataFrame({"city": ["Oslo", "Lima"] * 10, "temp": range(20)})
    shell.user_ns["weather"] = df
    chat = Chat(client=offline_client, auto_context=False)
    chip = chat.attach(df)
    assert chip["kind"] == "variable" and chip["label"] == "weather"
    assert "shape (20, 2)" in chip["text"]
    assert "temp" in chip["text"] and "int64" in chip["text"]
    assert chip["text"].count("Oslo") == 3  # head(): 5 rows
    assert chip["size"] == len(chip["text"])
    chat.close()


def test_describe_and_truncate() -> None:
    assert describe("plain", None) == ("text", "Text", "plain")
    kind, label, text = describe({"k": 1}, "cfg")
    assert (kind, label, text) == ("variable", "cfg", "cfg (dict): {'k': 1}")
    long = "z" * (ATTACHMENT_BUDGET + 123)
    cut = truncate(long)
    assert cut.endswith("… [truncated 123 chars]") and cut.startswith("z" * ATTACHMENT_BUDGET)
    chip = new_attachment("text", "long", long)
    assert chip["size"] == len(cut) and chip["text"] == cut
    assert truncate("short") == "short"


def test_context_count() -> None:
    assert context_count("") == 1 and context_count("4") == 4
    for bad in ("x", "0", "99"):
        with pytest.raises(CommandError):
            context_count(bad)
