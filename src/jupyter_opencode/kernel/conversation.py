"""The kernel's copy of one session's messages, for its Python API (``Reply``, inserts, forks).

The panel keeps the conversation the user sees (js/src/conversation.js) from the same frames,
which the kernel forwards; both apply them by the same rules: a frame at or below the last seq
is a replay, a final message is never reopened, and a lagging pending copy keeps the body
streamed so far.
"""

from __future__ import annotations

import copy
from typing import Any

from ..server.protocol import QuestionFrame, ServerFrame
from .frames import FINAL_STATUSES

Message = dict[str, Any]

PAGE_SIZE = 50


def _set_part(parts: list[dict[str, Any]], part: dict[str, Any]) -> None:
    """Add a tool part or replace the one with the same call id."""
    for index, existing in enumerate(parts):
        if existing.get("kind") == "tool" and existing.get("call_id") == part.get("call_id"):
            parts[index] = part
            return
    parts.append(part)


def _set_question(parts: list[dict[str, Any]], frame: QuestionFrame) -> None:
    """Add a question part, or replace the one with the same id (now answered)."""
    part: dict[str, Any] = {
        "kind": "question",
        "id": frame["question_id"],
        "questions": frame["questions"],
    }
    if "answers" in frame:
        part["answers"] = frame["answers"]
    if frame.get("rejected"):
        part["rejected"] = True
    for index, existing in enumerate(parts):
        if existing.get("kind") == "question" and existing.get("id") == part["id"]:
            parts[index] = part
            return
    parts.append(part)


def _placeholder(message_id: str, session_id: str | None) -> Message:
    """An answer known only by its first chunk."""
    return {
        "id": message_id,
        "session_id": session_id,
        "role": "assistant",
        "status": "streaming",
        "content": "",
        "error": None,
        "model": None,
        "context": [],
        "parts": [],
    }


class Conversation:
    """Messages of the current session (oldest first) and the last seq applied."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.has_more = False
        self.seq = 0

    def reset(self, messages: list[Message], has_more: bool, seq: int = 0) -> None:
        """Replace everything with a fresh page read at `seq`."""
        self.messages = [copy.deepcopy(m) for m in messages]
        self.has_more = has_more
        self.seq = seq

    def prepend(self, messages: list[Message], has_more: bool) -> list[Message]:
        """Add an older page; return the messages that were new."""
        known = {m["id"] for m in self.messages}
        older = [copy.deepcopy(m) for m in messages if m.get("id") not in known]
        self.messages[:0] = older
        self.has_more = has_more
        return older

    def remove(self, ids: list[str]) -> bool:
        """Drop messages a rewind took back; False when none was here."""
        gone = set(ids)
        kept = [m for m in self.messages if m.get("id") not in gone]
        changed = len(kept) != len(self.messages)
        self.messages = kept
        return changed

    def clear_in_flight(self) -> None:
        """Empty the streamed text and reasoning of unfinished messages, to be replayed."""
        for message in self.messages:
            if message.get("status") not in FINAL_STATUSES:
                message["content"] = ""
                message["parts"] = [
                    p for p in message.get("parts", []) if p.get("kind") != "reasoning"
                ]

    def get(self, message_id: str) -> Message | None:
        """The message with this id."""
        for message in reversed(self.messages):
            if message.get("id") == message_id:
                return message
        return None

    @property
    def busy(self) -> bool:
        """Whether an answer is in progress."""
        return any(
            m.get("role") == "assistant" and m.get("status") not in FINAL_STATUSES
            for m in self.messages
        )

    def upsert(self, message: Message) -> Message | None:
        """Add or update a whole message; what the panel needs of it (None: nothing).

        A final body equal to the streamed one is left out: the panel built it from the deltas.
        """
        existing = self.get(message["id"])
        if existing is None:
            self.messages.append(copy.deepcopy(message))
            return message
        if existing.get("status") in FINAL_STATUSES and message.get("status") not in FINAL_STATUSES:
            return None
        if message.get("status") not in FINAL_STATUSES:
            # A pending/streaming copy may lag behind the deltas seen: keep the streamed body.
            for key, value in message.items():
                if key not in ("content", "parts"):
                    existing[key] = value
            return message
        if existing == message:
            return None
        streamed = existing.get("content")
        existing.clear()
        existing.update(copy.deepcopy(message))
        if streamed == message.get("content"):
            return {key: value for key, value in message.items() if key != "content"}
        return message

    def apply(self, frame: ServerFrame) -> ServerFrame | None:
        """Apply one stream frame; the frame to forward to the panel (None: a replay)."""
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= self.seq:
                return None
            self.seq = seq
        if frame["type"] == "message":
            message = self.upsert(frame["message"])
            return None if message is None else {**frame, "message": message}
        if frame["type"] == "rewind":
            self.remove(list(frame["removed"]))
            return frame
        if frame["type"] not in ("chunk", "question"):
            return None
        if frame["type"] == "chunk" and frame["kind"] == "status":
            return frame
        message_id = frame["message_id"]
        current = self.get(message_id)
        if current is None:
            self.messages.append(_placeholder(message_id, frame.get("session_id")))
            current = self.messages[-1]
        elif current.get("status") in FINAL_STATUSES:
            return None  # a replayed chunk of a message already complete here
        if current.get("status") == "pending":
            current["status"] = "streaming"
        if frame["type"] == "question":
            _set_question(current.setdefault("parts", []), frame)
            return frame
        kind = frame["kind"]
        if kind == "text":
            current["content"] = (current.get("content") or "") + frame.get("delta", "")
        elif kind == "reasoning":
            parts = current.setdefault("parts", [])
            if parts and parts[-1].get("kind") == "reasoning":
                parts[-1]["text"] += frame.get("delta", "")
            else:
                parts.append({"kind": "reasoning", "text": frame.get("delta", "")})
        elif kind == "tool":
            _set_part(current.setdefault("parts", []), {"kind": "tool", **frame["tool"]})
        elif kind == "todo":  # the plan as it now stands, first
            others = [p for p in current.get("parts", []) if p.get("kind") != "todo"]
            current["parts"] = [{"kind": "todo", "todos": frame["todos"]}, *others]
        return frame
