"""Markdown and plain-text exports, rendered message by message as they stream out."""

from __future__ import annotations

import textwrap
from typing import Any

from .markdown import (
    RATINGS,
    STATUS_NOTES,
    message_markdown,
    role_heading,
    session_markdown,
    session_summary,
    title_of,
)
from .options import ExportOptions


class MarkdownRenderer:
    """The conversation as one Markdown document: a section per message."""

    def __init__(self, options: ExportOptions) -> None:
        self.options = options

    def head(self, session: dict[str, Any]) -> str:
        """The title and summary."""
        return session_markdown(session, self.options)

    def messages(self, batch: list[dict[str, Any]]) -> str:
        """A batch of messages, each after a rule."""
        return "".join(f"\n---\n\n{message_markdown(m, self.options)}" for m in batch)

    def tail(self) -> str:
        """Nothing closes a Markdown document."""
        return ""


def _indented(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text.rstrip(), prefix, lambda _line: True)


class TextRenderer:
    """The conversation as plain text: underlined headings, context and tools indented."""

    def __init__(self, options: ExportOptions) -> None:
        self.options = options

    def head(self, session: dict[str, Any]) -> str:
        """The title, underlined, and the summary."""
        title = title_of(session)
        return f"{title}\n{'=' * len(title)}\n{session_summary(session, self.options)}\n"

    def messages(self, batch: list[dict[str, Any]]) -> str:
        """A batch of messages."""
        return "".join(self._message(m) for m in batch)

    def tail(self) -> str:
        """Nothing closes a text file."""
        return ""

    def _message(self, message: dict[str, Any]) -> str:
        heading = role_heading(message, self.options)
        blocks = [f"\n{heading}\n{'-' * len(heading)}"]
        for item in message.get("context") or []:
            label = f"[context: {item.get('kind', 'text')} {item.get('label', '')}]".strip()
            blocks.append(f"{label}\n{_indented(str(item.get('text', '')))}")
        for part in message.get("parts") or []:
            if part.get("kind") == "tool":
                line = f"[tool {part.get('name', 'tool')}: {part.get('status', '')}]"
                output = str(part.get("output") or part.get("error") or "")
                blocks.append(f"{line}\n{_indented(output[:4000])}" if output else line)
        if str(message.get("content") or "").strip():
            blocks.append(str(message["content"]).strip())
        if message.get("error"):
            blocks.append(f"[error: {message['error']}]")
        elif message.get("status") in STATUS_NOTES:
            blocks.append(f"[{STATUS_NOTES[message['status']]}]")
        annotation = message.get("annotation") or {}
        if annotation.get("rating") in RATINGS:
            blocks.append(f"[{RATINGS[annotation['rating']]}]")
        if str(annotation.get("note") or "").strip():
            blocks.append(f"[note: {annotation['note'].strip()}]")
        return "\n\n".join(blocks) + "\n"
