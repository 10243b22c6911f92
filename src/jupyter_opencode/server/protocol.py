"""The frames of the ``opencode/stream`` WebSocket, written down once (JS twin: js/src/protocol.js;
README "Protocols"). Frames are built only by the functions here.

Every ``chunk``, ``message``, ``question`` and ``rewind`` frame read from the stream carries the
session's next ``seq``; a client that resubscribes with ``after_seq`` set to the last seq it saw
gets exactly the frames after it.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

ChunkKind = Literal["text", "reasoning", "tool", "permission", "status", "todo", "usage"]
Status = Literal[
    "starting",
    "thinking",
    "writing",
    "tool",
    "permission",
    "question",
    "retrying",
    "idle",
    "error",
]


class SubscribeFrame(TypedDict):
    """Client -> server: send me this session's frames after ``after_seq``, then live ones."""

    type: Literal["subscribe"]
    session_id: str
    after_seq: int


class UnsubscribeFrame(TypedDict):
    """Client -> server: stop sending this session's frames."""

    type: Literal["unsubscribe"]
    session_id: str


class _PromptFields(TypedDict):
    type: Literal["prompt"]
    session_id: str
    text: str


class PromptFrame(_PromptFields, total=False):
    """Client -> server: ask in this session (same fields as ``POST sessions/{sid}/messages``)."""

    model: str | None
    agent: str | None
    context: list[dict[str, Any]]


# The slowest a client may ask streamed text to come (ms): a `cadence` frame, `?cadence_ms=`,
# or a panel asking its kernel.
MAX_CADENCE_MS = 1000


class CadenceFrame(TypedDict):
    """Client -> server: send streamed text at most every ``cadence_ms`` (0: as it comes)."""

    type: Literal["cadence"]
    cadence_ms: int


class ConnectedFrame(TypedDict):
    """Server -> client, first frame after the socket opened."""

    type: Literal["connected"]


class _ErrorFields(TypedDict):
    type: Literal["error"]
    message: str
    reason: str


class ErrorFrame(_ErrorFields, total=False):
    """Server -> client: a frame of the client was refused (naming its session, if valid)."""

    session_id: str


class AcceptedFrame(TypedDict):
    """Server -> client: a prompt was taken; the session and both new messages."""

    type: Literal["accepted"]
    session_id: str
    session: dict[str, Any]
    user_message: dict[str, Any]
    assistant_message: dict[str, Any]


class _MessageFields(TypedDict):
    type: Literal["message"]
    session_id: str
    message: dict[str, Any]


class MessageFrame(_MessageFields, total=False):
    """Server -> client: a whole message, new or changed (e.g. the final one)."""

    seq: int


class _ChunkFields(TypedDict):
    type: Literal["chunk"]
    session_id: str
    message_id: str
    kind: ChunkKind


class ChunkFrame(_ChunkFields, total=False):
    """Server -> client: one piece of a streaming answer; the fields present depend on kind.

    text / reasoning: ``delta``; tool: ``tool`` {call_id, name, status, title?, input?,
    output?, error?}; permission: ``permission`` {id, permission, patterns, metadata};
    status: ``status`` plus ``message`` / ``attempt``; todo: ``todos`` [{content, status,
    priority}], the agent's whole plan as it now stands; usage: ``usage`` {tokens, limit, cost},
    the context window as of the latest step (limit 0: the model's is unknown).
    """

    seq: int
    delta: str
    tool: dict[str, Any]
    permission: dict[str, Any]
    status: Status
    message: str | None
    attempt: int
    todos: list[dict[str, str]]
    usage: dict[str, Any]


class _QuestionFields(TypedDict):
    type: Literal["question"]
    session_id: str
    message_id: str
    question_id: str
    questions: list[dict[str, Any]]


class QuestionFrame(_QuestionFields, total=False):
    """Server -> client: the agent asks the user (``questions``: {question, header, options:
    [{label, description}], multiple, custom}); sent again with ``answers`` (a list of labels
    per question) or ``rejected`` once settled."""

    seq: int
    answers: list[list[str]]
    rejected: bool


class _RewindFields(TypedDict):
    type: Literal["rewind"]
    session_id: str
    removed: list[str]
    notebook_changes: list[str]


class RewindFrame(_RewindFields, total=False):
    """Server -> client: messages taken back (and the removed answers that changed notebooks or
    files, whose changes can still be undone)."""

    seq: int
    file_changes: list[str]


ClientFrame = SubscribeFrame | UnsubscribeFrame | PromptFrame | CadenceFrame
ServerFrame = (
    ConnectedFrame
    | ErrorFrame
    | AcceptedFrame
    | MessageFrame
    | ChunkFrame
    | QuestionFrame
    | RewindFrame
)

SERVER_FRAME_TYPES = ("connected", "error", "accepted", "message", "chunk", "question", "rewind")
CLIENT_FRAME_TYPES = ("subscribe", "unsubscribe", "prompt", "cadence")


def connected_frame() -> ConnectedFrame:
    """The first frame of an opened socket."""
    return {"type": "connected"}


def accepted_frame(
    session_id: str, session: dict[str, Any], user: dict[str, Any], assistant: dict[str, Any]
) -> AcceptedFrame:
    """A prompt frame was taken: the session and both new messages."""
    return {
        "type": "accepted",
        "session_id": session_id,
        "session": session,
        "user_message": user,
        "assistant_message": assistant,
    }


def rewind_frame(
    session_id: str,
    removed: list[str],
    notebook_changes: list[str],
    seq: int | None = None,
    file_changes: list[str] | None = None,
) -> RewindFrame:
    """A rewind (with its seq once stored)."""
    frame: RewindFrame = {
        "type": "rewind",
        "session_id": session_id,
        "removed": removed,
        "notebook_changes": notebook_changes,
    }
    if seq is not None:
        frame["seq"] = seq
    if file_changes:
        frame["file_changes"] = file_changes
    return frame


def subscribe_frame(session_id: str, after_seq: int) -> SubscribeFrame:
    """Subscribe to a session from ``after_seq``."""
    return {"type": "subscribe", "session_id": session_id, "after_seq": after_seq}


def unsubscribe_frame(session_id: str) -> UnsubscribeFrame:
    """Stop following a session."""
    return {"type": "unsubscribe", "session_id": session_id}


def chunk_frame(session_id: str, message_id: str, chunk: dict[str, Any]) -> ChunkFrame:
    """A chunk frame of one answer from a chunk payload built by the turn."""
    frame: dict[str, Any] = {
        "type": "chunk",
        "session_id": session_id,
        "message_id": message_id,
        **chunk,
    }
    return frame  # type: ignore[return-value]


def question_frame(session_id: str, message_id: str, part: dict[str, Any]) -> QuestionFrame:
    """A question of the agent (a question part of the answer), asked or settled."""
    frame: QuestionFrame = {
        "type": "question",
        "session_id": session_id,
        "message_id": message_id,
        "question_id": part["id"],
        "questions": part["questions"],
    }
    if "answers" in part:
        frame["answers"] = part["answers"]
    if part.get("rejected"):
        frame["rejected"] = True
    return frame


def message_frame(session_id: str, message: dict[str, Any]) -> MessageFrame:
    """A message frame."""
    return {"type": "message", "session_id": session_id, "message": message}


def text_chunk(session_id: str, message_id: str, kind: str, delta: str, seq: int) -> ChunkFrame:
    """One text or reasoning chunk (merged deltas of a client that fell behind)."""
    return {
        "type": "chunk",
        "session_id": session_id,
        "message_id": message_id,
        "kind": "reasoning" if kind == "reasoning" else "text",
        "delta": delta,
        "seq": seq,
    }


def error_frame(message: str, reason: str) -> ErrorFrame:
    """An error frame."""
    return {"type": "error", "message": message, "reason": reason}
