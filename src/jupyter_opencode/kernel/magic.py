"""The `%%opencode` cell magic (`%load_ext jupyter_opencode`)."""

from __future__ import annotations

from typing import Any

from .context import CellRecorder
from .widget import Chat

_chat: Chat | None = None


def magic_chat() -> Chat:
    """The Chat behind `%%opencode`: one conversation per kernel."""
    global _chat
    if _chat is None:
        _chat = Chat()
    return _chat


def opencode(line: str, cell: str) -> None:
    """Ask the opencode agent the cell's text; the answer streams below as Markdown."""
    chat = magic_chat()
    if line.strip() == "--new":
        chat.new()
    if cell.strip():
        chat.ask(cell)


def load_ipython_extension(ipython: Any) -> None:
    """Register `%%opencode` and start recording cells for auto-context."""
    CellRecorder.install(ipython)
    ipython.register_magic_function(opencode, magic_kind="cell", magic_name="opencode")
