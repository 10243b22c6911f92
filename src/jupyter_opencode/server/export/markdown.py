"""The shared Markdown rendering of a conversation: Markdown export, and the source of HTML, PDF
and DOCX."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from .attached import attachments_markdown
from .options import ExportOptions

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_NOTES = {
    "interrupted": "The answer was interrupted.",
    "aborted": "The answer was stopped.",
    "pending": "The answer had not started when this was exported.",
    "streaming": "The answer was still streaming when this was exported.",
}
RATINGS = {"up": "Rated helpful", "down": "Rated unhelpful"}
TOOL_OUTPUT_LIMIT = 4000
_BACKTICKS = re.compile(r"`+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` without terminal color codes and the control characters XML cannot hold
    (tracebacks and tool output carry both)."""
    return _UNPRINTABLE.sub("", _ANSI.sub("", text))


def when(timestamp: float | None) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM UTC``."""
    if not timestamp:
        return ""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def fence(text: str, language: str = "") -> str:
    """A fenced code block that no backtick run inside ``text`` can close early."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{language}\n{text.rstrip()}\n{marks}"


def title_of(session: dict[str, Any]) -> str:
    """The title shown for a session."""
    return printable(str(session.get("title") or "")).strip() or "Untitled conversation"


def role_heading(message: dict[str, Any], options: ExportOptions) -> str:
    """``You · 2026-12-01 10:00 UTC``, ``Assistant (provider/model) · ...``."""
    role = str(message.get("role") or "")
    name = ROLE_NAMES.get(role, role.capitalize() or "Message")
    if role == "assistant" and message.get("model"):
        name += f" ({message['model']})"
    stamp = when(message.get("created_at")) if options.timestamps else ""
    return f"{name} · {stamp}" if stamp else name


def session_summary(session: dict[str, Any], options: ExportOptions) -> str:
    """One line about the session: message count, model, dates."""
    bits = [f"{session.get('message_count', 0)} messages"]
    if session.get("model"):
        bits.append(f"model {session['model']}")
    if options.timestamps:
        if session.get("created_at"):
            bits.append(f"started {when(session['created_at'])}")
        bits.append(f"exported {when(time.time())}")
    return " · ".join(bits)


def session_markdown(session: dict[str, Any], options: ExportOptions) -> str:
    """The title and summary that open a Markdown export."""
    tags = session.get("tags") or []
    lines = [f"# {title_of(session)}", "", f"*{session_summary(session, options)}*"]
    if tags:
        lines += ["", "Tags: " + ", ".join(f"`{tag}`" for tag in tags)]
    return "\n".join(lines) + "\n"


def context_markdown(items: list[dict[str, Any]]) -> str:
    """Attached notebook context, each item as a labelled code block."""
    blocks = [
        f"**Context ({item.get('kind', 'text')}):** {item.get('label', '')}\n\n"
        + fence(str(item.get("text", "")), "text")
        for item in items
    ]
    return "\n\n".join(blocks)


def tool_markdown(tool: dict[str, Any]) -> str:
    """A tool call: name, status, input and (truncated) output."""
    head = f"**Tool `{tool.get('name', 'tool')}`** ({tool.get('status', '')})"
    if tool.get("title"):
        head += f": {tool['title']}"
    blocks = [head]
    if tool.get("input"):
        blocks.append(fence(json.dumps(tool["input"], indent=2, ensure_ascii=False), "json"))
    output = str(tool.get("output") or tool.get("error") or "")
    if output:
        if len(output) > TOOL_OUTPUT_LIMIT:
            cut = len(output) - TOOL_OUTPUT_LIMIT
            output = output[:TOOL_OUTPUT_LIMIT] + f"\n… ({cut} more characters)"
        blocks.append(fence(output, "text"))
    return "\n\n".join(blocks)


def parts_markdown(parts: list[dict[str, Any]]) -> str:
    """Reasoning as a quote, tool calls as blocks."""
    blocks = []
    for part in parts:
        if part.get("kind") == "reasoning" and part.get("text"):
            quoted = "\n".join(f"> {line}" for line in str(part["text"]).splitlines())
            blocks.append(f"> *Reasoning*\n>\n{quoted}")
        elif part.get("kind") == "tool":
            blocks.append(tool_markdown(part))
    return "\n\n".join(blocks)


def annotation_markdown(annotation: dict[str, Any] | None) -> str:
    """A rating and note kept on a message, as a quote ('' when there is none)."""
    if not annotation:
        return ""
    lines = []
    if annotation.get("rating") in RATINGS:
        lines.append(f"**{RATINGS[annotation['rating']]}**")
    note = str(annotation.get("note") or "").strip()
    if note:
        lines.append(f"**Note:** {note}")
    return "\n".join(f"> {line}" for line in "\n\n".join(lines).splitlines())


def message_body(message: dict[str, Any]) -> list[str]:
    """The Markdown blocks of one message below its heading."""
    blocks = [attachments_markdown(message.get("attachments") or [])]
    if message.get("context"):
        blocks.append(context_markdown(message["context"]))
    if message.get("parts"):
        blocks.append(parts_markdown(message["parts"]))
    if str(message.get("content") or "").strip():
        blocks.append(str(message["content"]).strip())
    if message.get("error"):
        blocks.append(f"> **Error:** {message['error']}")
    elif message.get("status") in STATUS_NOTES:
        blocks.append(f"*{STATUS_NOTES[message['status']]}*")
    blocks.append(annotation_markdown(message.get("annotation")))
    return [block for block in blocks if block]


def message_markdown(message: dict[str, Any], options: ExportOptions) -> str:
    """One message as a Markdown section."""
    heading = f"## {role_heading(message, options)}"
    return "\n\n".join([heading, *message_body(message)]) + "\n"
