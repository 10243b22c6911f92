"""Both wire protocols are declared once per side, and the two sides agree.

The WebSocket frames: jupyter_opencode/server/protocol.py and js/src/protocol.js. The comm
messages between the notebook panel and its kernel: jupyter_opencode/kernel/comm.py and the same
JS module. Every kind is listed on both sides, typed, handled where it arrives, and built only
through the protocol modules.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from jupyter_opencode.kernel import comm
from jupyter_opencode.kernel.commands import KERNEL_COMMANDS
from jupyter_opencode.server import protocol

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "js" / "src"
SRC = REPO / "src" / "jupyter_opencode"


def js_list(name: str) -> list[str]:
    """An exported array of strings of js/src/protocol.js."""
    text = (JS / "protocol.js").read_text()
    found = re.search(rf"export const {name} = \[(.*?)\];", text, re.S)
    assert found, name
    return re.findall(r'"([^"]+)"', found.group(1))


def type_literals(union: object) -> set[str]:
    """The `type` values of the TypedDicts of a union."""
    values: set[str] = set()
    for member in typing.get_args(union):
        values.update(typing.get_args(typing.get_type_hints(member)["type"]))
    return values


@pytest.mark.parametrize(
    ("name", "python", "union"),
    [
        ("SERVER_FRAME_TYPES", protocol.SERVER_FRAME_TYPES, protocol.ServerFrame),
        ("CLIENT_FRAME_TYPES", protocol.CLIENT_FRAME_TYPES, protocol.ClientFrame),
        ("KERNEL_MESSAGE_TYPES", comm.KERNEL_MESSAGE_TYPES, comm.KernelMessage),
        ("PANEL_MESSAGE_TYPES", comm.PANEL_MESSAGE_TYPES, None),
    ],
)
def test_every_kind_is_declared_and_typed_on_both_sides(
    name: str, python: tuple[str, ...], union: object
) -> None:
    assert js_list(name) == list(python)
    if union is not None:
        assert type_literals(union) == set(python)
    typedefs = set(re.findall(r'\{type: "([^"]+)"', (JS / "protocol.js").read_text()))
    assert set(python) <= typedefs, set(python) - typedefs


def test_every_message_is_handled_where_it_arrives() -> None:
    panel = (SRC / "kernel" / "panel.py").read_text()
    handled = set(re.findall(r'kind == "([^"]+)"', panel))
    handled |= {
        k for t in re.findall(r"kind in \((.*?)\)", panel) for k in re.findall(r'"(\w+)"', t)
    }
    for group in re.findall(r"BROWSER_ACTIONS = \((.*?)\)", panel):
        handled |= set(re.findall(r'"(\w+)"', group))
    assert set(comm.PANEL_MESSAGE_TYPES) <= handled, set(comm.PANEL_MESSAGE_TYPES) - handled
    host = (JS / "index.js").read_text()
    shown = set(re.findall(r'msg\.type === "([^"]+)"', host))
    assert set(comm.KERNEL_MESSAGE_TYPES) == shown
    client = (JS / "client.js").read_text() + (JS / "conversation.js").read_text()
    applied = set(re.findall(r'frame\.type (?:===|!==) "([^"]+)"', client))
    assert {"message", "chunk", "rewind"} <= applied


def test_frames_and_messages_are_built_only_through_the_protocol_modules() -> None:
    builders = {SRC / "server" / "protocol.py", SRC / "kernel" / "comm.py"}
    every = {*protocol.SERVER_FRAME_TYPES, *protocol.CLIENT_FRAME_TYPES, *comm.KERNEL_MESSAGE_TYPES}
    kinds = "|".join(map(re.escape, every))
    by_hand = re.compile(rf"[\"']type[\"']\s*:\s*[\"']({kinds})[\"']")
    offenders = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in sorted(SRC.rglob("*.py"))
        if path not in builders
        for text in [path.read_text()]
        for match in by_hand.finditer(text)
    ]
    assert offenders == []


def test_the_panel_hands_the_kernel_only_the_commands_it_executes() -> None:
    host = (JS / "index.js").read_text()
    assert sorted(set(re.findall(r'command\("(\w+)"', host))) == sorted(KERNEL_COMMANDS)
    registry = (JS / "commands.js").read_text()
    names = set(re.findall(r'name: "/(\w+)"', registry))
    assert set(KERNEL_COMMANDS) <= names
