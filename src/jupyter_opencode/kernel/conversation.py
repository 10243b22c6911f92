"""Mirror of one session's messages, updated by server events and turned into browser ops."""

from __future__ import annotations

import copy
import time
from typing import Any

from .frames import FINAL_STATUSES, Op

Message = dict[str, Any]

PAGE_SIZE = 50


def _set_part(parts: list[dict[str, Any]], part: dict[str, Any]) -> None:
    """Add a tool part or replace the one with the same call id."""
    for index, existing in enumerate(parts):
        if existing.get("kind") == "tool" and existing.get("call_id") == part.get("call_id"):
            parts[index] = part
            return
    parts.append(part)


class Conversation:
    """Messages of the current session (oldest first) as the browser sees them."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.has_more = False

    def reset(self, messages: list[Message], has_more: bool) -> None:
        """Replace everything with a fresh page from the server."""
        self.messages = [copy.deepcopy(m) for m in messages]
        self.has_more = has_more

    def prepend(self, messages: list[Message], has_more: bool) -> list[Message]:
        """Add an older page; return the messages that were new."""
        known = {m["id"] for m in self.messages}
        older = [copy.deepcopy(m) for m in messages if m.get("id") not in known]
        self.messages[:0] = older
        self.has_more = has_more
        return older

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

    def upsert(self, message: Message) -> list[Op]:
        """Add or update a whole message; return the ops the browser needs."""
        existing = self.get(message["id"])
        if existing is None:
            self.messages.append(copy.deepcopy(message))
            return [{"op": "message", "message": message}]
        if existing.get("status") in FINAL_STATUSES and message.get("status") not in FINAL_STATUSES:
            return []
        if message.get("status") not in FINAL_STATUSES:
            # A pending/streaming copy may lag behind the deltas seen: keep the streamed body.
            for key, value in message.items():
                if key not in ("content", "parts"):
                    existing[key] = value
            return []
        if existing == message:
            return []
        streamed = existing.get("content")
        existing.clear()
        existing.update(copy.deepcopy(message))
        if streamed == message.get("content"):
            # The browser built this text from the deltas: the body is never sent twice.
            message = {key: value for key, value in message.items() if key != "content"}
        return [{"op": "message", "message": message}]

    def apply(self, event: dict[str, Any]) -> list[Op]:
        """Apply one server event; return the ops the browser needs."""
        if event.get("type") == "message":
            return self.upsert(event["message"])
        if event.get("type") != "chunk" or event.get("kind") == "status":
            return []
        message_id = event["message_id"]
        ops: list[Op] = []
        message = self.get(message_id)
        if message is None:
            message = {
                "id": message_id,
                "session_id": event.get("session_id"),
                "role": "assistant",
                "status": "streaming",
                "content": "",
                "error": None,
                "model": None,
                "created_at": time.time(),
                "completed_at": None,
                "context": [],
                "parts": [],
            }
            ops.extend(self.upsert(message))
            message = self.get(message_id) or message
        elif message.get("status") in FINAL_STATUSES:
            return []  # a replayed chunk of a message already complete here
        if message.get("status") == "pending":
            message["status"] = "streaming"
        kind = event.get("kind")
        if kind in ("text", "reasoning"):
            delta = str(event.get("delta") or "")
            if kind == "text":
                message["content"] = message.get("content", "") + delta
            else:
                parts = message.setdefault("parts", [])
                if parts and parts[-1].get("kind") == "reasoning":
                    parts[-1]["text"] += delta
                else:
                    parts.append({"kind": "reasoning", "text": delta})
            ops.append({"op": "delta", "id": message_id, "kind": kind, "text": delta})
        elif kind == "tool":
            tool = dict(event["tool"])
            _set_part(message.setdefault("parts", []), {"kind": "tool", **tool})
            ops.append({"op": "tool", "id": message_id, "tool": tool})
        elif kind == "permission":
            ops.append({"op": "permission", "id": message_id, "permission": event["permission"]})
        return ops
