"""The .ipynb export: user turns and answer prose as Markdown cells, answer code as code cells."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import IO, Any

import nbformat
from markdown_it import MarkdownIt
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..._version import __version__
from .attached import attachments_markdown, images
from .markdown import (
    STATUS_NOTES,
    annotation_markdown,
    context_markdown,
    parts_markdown,
    role_heading,
    session_markdown,
)
from .options import ExportOptions

# Fenced blocks in these languages become code cells; any other stays in the Markdown.
PYTHON = {"", "python", "python3", "py", "ipython", "ipython3"}
CELL_MAGICS = {"bash": "%%bash", "sh": "%%bash", "shell": "%%bash", "sql": "%%sql"}
_MD = MarkdownIt("commonmark", {"html": False})


def split_code(text: str) -> list[tuple[str, str]]:
    """``text`` as ("markdown" | "code", source) pieces: top-level runnable fences are code."""
    lines = text.splitlines(keepends=True)
    pieces: list[tuple[str, str]] = []
    start = 0
    for token in _MD.parse(text):
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else None
        if language is None or token.level or token.map is None:
            continue
        if language not in PYTHON and language not in CELL_MAGICS:
            continue
        first, end = token.map
        prose = "".join(lines[start:first]).strip()
        if prose:
            pieces.append(("markdown", prose))
        magic = CELL_MAGICS.get(language)
        code = token.content.rstrip("\n")
        pieces.append(("code", f"{magic}\n{code}" if magic else code))
        start = end
    rest = "".join(lines[start:]).strip()
    if rest:
        pieces.append(("markdown", rest))
    return pieces


def _attachment_name(index: int, image: dict[str, Any]) -> str:
    """A cell attachment's name: unique in its cell, no spaces or brackets to escape."""
    stem = re.sub(r"[^\w.-]+", "_", str(image.get("name") or "image"))
    return f"{index}-{stem}"


def message_cells(message: dict[str, Any], options: ExportOptions) -> list[Any]:
    """The cells of one message, each tagged with the message it came from."""
    heading = f"**{role_heading(message, options)}**"
    meta = {"jupyter_opencode": {"message_id": message.get("id"), "role": message.get("role")}}
    head = [heading, attachments_markdown(message.get("attachments") or [])]
    pictures = images(message)
    # Images travel inside the notebook as cell attachments, shown by the first cell.
    head += [f"![{p['name']}](attachment:{_attachment_name(i, p)})" for i, p in enumerate(pictures)]
    if message.get("context"):
        head.append(context_markdown(message["context"]))
    if message.get("parts"):
        head.append(parts_markdown(message["parts"]))
    content = str(message.get("content") or "").strip()
    if message.get("role") != "assistant":
        quoted = "\n".join(f"> {line}" if line else ">" for line in content.splitlines())
        pieces = [("markdown", quoted)] if content else []
    else:
        pieces = split_code(content)
    tail = [annotation_markdown(message.get("annotation"))]
    if message.get("error"):
        tail.insert(0, f"> **Error:** {message['error']}")
    elif message.get("status") in STATUS_NOTES:
        tail.insert(0, f"*{STATUS_NOTES[message['status']]}*")
    cells = []
    if pieces and pieces[0][0] == "markdown":
        head.append(pieces.pop(0)[1])
    first = new_markdown_cell("\n\n".join(h for h in head if h), metadata=meta)
    if pictures:
        first.attachments = {
            _attachment_name(i, p): {p["mime"]: p["data"]} for i, p in enumerate(pictures)
        }
    cells.append(first)
    for kind, source in pieces:
        make = new_code_cell if kind == "code" else new_markdown_cell
        cells.append(make(source, metadata=meta))
    if any(tail):
        cells.append(new_markdown_cell("\n\n".join(t for t in tail if t), metadata=meta))
    return cells


def build_notebook(
    session: dict[str, Any],
    messages: Iterable[dict[str, Any]],
    options: ExportOptions,
    out: IO[bytes],
) -> None:
    """Write the conversation as a validated notebook to ``out``."""
    notebook = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "jupyter_opencode": {
                "session_id": session.get("id"),
                "title": session.get("title"),
                "exported_at": time.time(),
                "generator": f"jupyter-opencode {__version__}",
            },
        }
    )
    notebook.cells.append(new_markdown_cell(session_markdown(session, options)))
    for message in messages:
        notebook.cells.extend(message_cells(message, options))
    nbformat.validate(notebook)
    out.write(nbformat.writes(notebook).encode())
