"""The comm messages between the chat panel and its kernel (JS twin: js/src/protocol.js).

Written down once; README "Protocols" describes them. The kernel forwards the server's stream
frames and message pages to the panel, which keeps the only conversation state the user sees;
the rest is what the kernel alone can do or knows.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from ..server.protocol import ServerFrame

Message = dict[str, Any]


class StateMessage(TypedDict):
    """Kernel -> panel: trait values written off the kernel's thread, live (see state.py)."""

    type: Literal["state"]
    version: int
    state: dict[str, Any]


class ResetMessage(TypedDict):
    """Kernel -> panel: the whole conversation, as a page read at ``seq``."""

    type: Literal["reset"]
    messages: list[Message]
    has_more: bool
    seq: int


class OlderMessage(TypedDict):
    """Kernel -> panel: an older page, before the first message the panel has."""

    type: Literal["older"]
    messages: list[Message]
    has_more: bool


class FramesMessage(TypedDict):
    """Kernel -> panel: the server's stream frames, coalesced over one interval."""

    type: Literal["frames"]
    frames: list[ServerFrame]


class NoticeMessage(TypedDict):
    """Kernel -> panel: a line to show the user."""

    type: Literal["notice"]
    level: Literal["info", "error"]
    text: str


class AnnotationMessage(TypedDict):
    """Kernel -> panel: a message's rating and note as stored."""

    type: Literal["annotation"]
    message_id: str
    annotation: dict[str, Any] | None


class SearchResultsMessage(TypedDict):
    """Kernel -> panel: the hits of ``/search``."""

    type: Literal["search_results"]
    query: str
    hits: list[dict[str, Any]]


class FoundMessage(TypedDict):
    """Kernel -> panel: the answer to a ``find_files`` or ``list_variables`` request."""

    type: Literal["found"]
    request: int
    items: list[dict[str, Any]]


class DownloadMessage(TypedDict):
    """Kernel -> panel: a file to save (its bytes in the comm buffer)."""

    type: Literal["download"]
    filename: str
    media_type: str


class _InsertCellFields(TypedDict):
    type: Literal["insert-cell"]
    code: str
    run: bool


class InsertCellMessage(_InsertCellFields, total=False):
    """Kernel -> panel (and the labextension): insert this code below the chat's cell."""

    message_id: str
    block: int


KernelMessage = (
    StateMessage
    | ResetMessage
    | OlderMessage
    | FramesMessage
    | NoticeMessage
    | AnnotationMessage
    | SearchResultsMessage
    | FoundMessage
    | DownloadMessage
    | InsertCellMessage
)

KERNEL_MESSAGE_TYPES = (
    "state",
    "reset",
    "older",
    "frames",
    "notice",
    "annotation",
    "search_results",
    "found",
    "download",
    "insert-cell",
)

# Panel -> kernel: each type and the fields it carries (all strings unless said otherwise).
PANEL_MESSAGE_TYPES = (
    "ready",  # the view rendered: send it everything
    "send",  # text, attachments: list (files by path, images): a prompt
    "stop",
    "permission",  # permission_id, reply
    "answer",  # question_id, answers: a list of labels per question, or null to dismiss
    "remove_context",  # id
    "load_older",  # before
    "switch",  # session_id
    "new",  # keep_context: bool
    "fork",
    "edit",  # message_id, text
    "rewind",  # message_id
    "annotate",  # message_id, rating ("up" | "down" | null), note
    "retry",
    "insert",  # message_id, block: int, run: bool
    "command",  # name, arg: a slash command the kernel executes (commands.py)
    "attach",  # context: [{kind, label, text}]: chips the notebook page attaches (an error...)
    "opencode_command",  # name, arguments: run one of opencode's commands in the session
    "find_files",  # request: int, query: the @ menu's files (answered by "found")
    "list_variables",  # request: int: the @ menu's variables (answered by "found")
    "attach_variable",  # name: a summary of that variable joins the pending context
    "cadence",  # cadence_ms: int: the panel shows streamed text at most this often
)


def state(version: int, values: dict[str, Any]) -> StateMessage:
    """Trait values written off the kernel's thread."""
    return {"type": "state", "version": version, "state": values}


def reset(messages: list[Message], has_more: bool, seq: int) -> ResetMessage:
    """The whole conversation."""
    return {"type": "reset", "messages": messages, "has_more": has_more, "seq": seq}


def older(messages: list[Message], has_more: bool) -> OlderMessage:
    """An older page."""
    return {"type": "older", "messages": messages, "has_more": has_more}


def frames(batch: list[ServerFrame]) -> FramesMessage:
    """Stream frames for the panel's conversation."""
    return {"type": "frames", "frames": batch}


def notice(level: Literal["info", "error"], text: str) -> NoticeMessage:
    """A line for the user."""
    return {"type": "notice", "level": level, "text": text}


def annotation(message_id: str, value: dict[str, Any] | None) -> AnnotationMessage:
    """A message's stored rating and note."""
    return {"type": "annotation", "message_id": message_id, "annotation": value}


def search_results(query: str, hits: list[dict[str, Any]]) -> SearchResultsMessage:
    """Search hits."""
    return {"type": "search_results", "query": query, "hits": hits}


def found(request: int, items: list[dict[str, Any]]) -> FoundMessage:
    """The answer to a request of the @ menu."""
    return {"type": "found", "request": request, "items": items}


def download(filename: str, media_type: str) -> DownloadMessage:
    """A file download (bytes go in the buffer)."""
    return {"type": "download", "filename": filename, "media_type": media_type}


def insert_cell(code: str, run: bool, **origin: Any) -> InsertCellMessage:
    """Insert a cell below the chat's cell (origin: the answer's message_id and block)."""
    message: InsertCellMessage = {"type": "insert-cell", "code": code, "run": run}
    if "message_id" in origin:
        message["message_id"] = str(origin["message_id"])
    if "block" in origin:
        message["block"] = int(origin["block"])
    return message
