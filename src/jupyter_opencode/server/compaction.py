"""Compaction: opencode summarizes a session's conversation, and later prompts go on from the
summary; the conversation shows a divider "Conversation compacted" there."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .service import ChatService, SessionBusy, UnknownSession
from .store.context import add_compaction

COMPACTED = "Conversation compacted"


class NothingToCompact(Exception):
    """The session has no conversation in opencode yet."""


def _summary(messages: list[dict[str, Any]]) -> tuple[str, int]:
    """The text and size in tokens of the newest summary among opencode's messages."""
    for message in reversed(messages):
        info = message.get("info") or {}
        if info.get("role") == "assistant" and info.get("summary"):
            texts = [
                p.get("text") or "" for p in message.get("parts") or [] if p.get("type") == "text"
            ]
            tokens = info.get("tokens") or {}
            return "\n\n".join(t for t in texts if t), int(tokens.get("output") or 0)
    return "", 0


async def compact(service: ChatService, sid: str) -> dict[str, Any]:
    """Ask opencode to summarize the session; the divider message once it has."""
    if not await service.free(sid):
        raise SessionBusy(sid)
    session = await service.store.get_session(sid)
    if session is None:
        raise UnknownSession(sid)
    ocid = session.get("opencode_session_id")
    if not ocid:
        raise NothingToCompact(sid)
    service.reserved.add(sid)
    try:
        client = await service.supervisor.ready()
        if await client.get_session(ocid) is None:
            raise NothingToCompact(sid)
        model = session.get("model") or await _default_model(client)
        await client.summarize(ocid, model)
        summary, tokens = _summary(await client.messages(ocid, limit=4))
        limit = (await service.context_limits(client)).get(model, 0)
        now = time.time()
        message = {
            "id": uuid.uuid4().hex,
            "session_id": sid,
            "role": "system",
            "status": "complete",
            "content": COMPACTED,
            "error": None,
            "model": model,
            "created_at": now,
            "completed_at": now,
            "context": [],
            "parts": [
                {"kind": "compaction", "summary": summary},
                {"kind": "usage", "tokens": tokens, "limit": limit, "cost": 0.0},
            ],
        }
        await add_compaction(service.store, message, tokens)
        await service.announce(message)
    finally:
        service.reserved.discard(sid)
    return message


async def _default_model(client: Any) -> str:
    """opencode's default model, as ``provider/model``."""
    defaults = (await client.providers()).get("default") or {}
    return next((f"{p}/{m}" for p, m in defaults.items()), "")
