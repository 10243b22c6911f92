"""The imported conversation, handed to the agent with the first prompt that continues it."""

from __future__ import annotations

from collections import deque
from typing import Any
from xml.sax.saxutils import quoteattr

from ..store import SessionStore
from .markdown import ROLE_NAMES, title_of

TRANSCRIPT_BUDGET = 100_000
"""Characters of imported history sent at most; the oldest messages are left out first."""


def needs_transcript(session: dict[str, Any]) -> bool:
    """Whether the agent has not seen this imported session's history yet."""
    return bool(session.get("imported_from")) and not session.get("opencode_session_id")


async def imported_transcript(store: SessionStore, session: dict[str, Any], skip: set[str]) -> str:
    """The session's messages (but ``skip``) as one context block, the latest within budget."""
    kept: deque[str] = deque()
    size = 0
    async for batch in store.message_batches(session["id"]):
        for message in batch:
            if message["id"] in skip or not message["content"].strip():
                continue
            name = ROLE_NAMES.get(message["role"], message["role"])
            entry = f"{name}: {message['content'].strip()}"
            kept.append(entry)
            size += len(entry)
            while size > TRANSCRIPT_BUDGET and len(kept) > 1:
                size -= len(kept.popleft())
    if not kept:
        return ""
    label = quoteattr(f"Imported conversation: {title_of(session)}")
    history = "\n\n".join(kept)
    return (
        f'<context kind="transcript" label={label}>\n'
        "The conversation so far, imported from an export; continue from it.\n\n"
        f"{history}\n</context>\n\n"
    )
