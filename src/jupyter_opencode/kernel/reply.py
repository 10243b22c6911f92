"""The answer of `Chat.ask`."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from IPython.display import Markdown, display
from markdown_it import MarkdownIt

from .client import OpencodeConnectionError, ServerClient
from .discovery import NO_SERVER_MESSAGE
from .frames import FINAL_STATUSES

LOST_CONNECTION_GRACE = 60.0

_MARKDOWN = MarkdownIt("commonmark")


def code_blocks(markdown: str) -> list[str]:
    """The code of each code block in `markdown`, fenced or indented, in the panel's order.

    The panel numbers the code blocks it renders (for "Insert as cell"); CommonMark finds the
    same ones (an unclosed last fence runs to the end).
    """
    return [
        token.content.removesuffix("\n")
        for token in _MARKDOWN.parse(markdown)
        if token.type in ("fence", "code_block")
    ]


@dataclass
class Reply:
    """An assistant message: text, status, error and the code blocks it contains."""

    text: str
    status: str
    error: str | None = None
    message: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Reply:
        """Build from a message dict of the server API."""
        return cls(
            text=message.get("content") or "",
            status=message.get("status") or "",
            error=message.get("error"),
            message=message,
        )

    @property
    def code(self) -> list[str]:
        """Code of the code blocks, in order."""
        return code_blocks(self.text)

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        if self.error:
            return f"{self.text}\n\n**Error:** {self.error}"
        return self.text


class ReplyWaiter:
    """Thread-safe view of one streaming assistant message, for `Chat.ask`."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self._changed = threading.Condition()
        self.text = ""
        self.final: dict[str, Any] | None = None

    def update(self, message: dict[str, Any]) -> None:
        """Record the latest state of the message."""
        with self._changed:
            self.text = message.get("content") or ""
            if message.get("status") in FINAL_STATUSES:
                self.final = copy.deepcopy(message)
            self._changed.notify_all()

    def wait(self, timeout: float) -> tuple[str, dict[str, Any] | None]:
        """Wait up to `timeout` for a change; return (text so far, final message or None)."""
        with self._changed:
            if self.final is None:
                self._changed.wait(timeout)
            return self.text, self.final


class ReplyOutput:
    """The cell output a reply streams into as Markdown (nothing when not displayed)."""

    def __init__(self, show: bool) -> None:
        self._handle = display(Markdown("…"), display_id=True) if show else None
        self._shown = ""

    def update(self, text: str) -> None:
        """Show the text so far, when it changed."""
        if self._handle is not None and text != self._shown:
            self._handle.update(Markdown(text))
            self._shown = text

    def finish(self, reply: Reply) -> None:
        """Show the final reply, with its error if any."""
        if self._handle is not None and (reply.error or reply.text != self._shown):
            self._handle.update(Markdown(reply._repr_markdown_()))


class Patience:
    """When an `ask` stops waiting: after its timeout, or when the server stays unreachable."""

    def __init__(self, client: ServerClient, timeout: float | None) -> None:
        self._client = client
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._lost_since: float | None = None

    def check(self) -> None:
        """Raise TimeoutError or OpencodeConnectionError once waiting longer is pointless."""
        now = time.monotonic()
        if self._deadline is not None and now > self._deadline:
            raise TimeoutError("The reply is still streaming in the chat panel.")
        if self._client.connection == "connected":
            self._lost_since = None
        elif self._lost_since is None:
            self._lost_since = now
        elif now - self._lost_since > LOST_CONNECTION_GRACE:
            error = self._client.connection_error or NO_SERVER_MESSAGE
            raise OpencodeConnectionError(
                f"{error} The reply continues on the server: load this session again to see it."
            )


def wait_step(
    waiter: ReplyWaiter, output: ReplyOutput, patience: Patience, wait: float
) -> Reply | None:
    """Wait up to `wait` for news of the reply, show it; the Reply once it is final."""
    text, final = waiter.wait(wait)
    output.update(text)
    if final is not None:
        reply = Reply.from_message(final)
        output.finish(reply)
        return reply
    patience.check()
    return None
