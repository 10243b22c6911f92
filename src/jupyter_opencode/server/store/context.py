"""The context window of each session, and compactions: stored beside its messages."""

from __future__ import annotations

import json
from typing import Any

from .store import SessionStore


async def save_context(store: SessionStore, session_id: str, tokens: int, limit: int) -> None:
    """Keep the tokens of a session's context window and its model's limit (0: unknown)."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE sessions SET context_tokens = ?,"
            " context_limit = CASE WHEN ? > 0 THEN ? ELSE context_limit END WHERE id = ?",
            (tokens, limit, limit, session_id),
        )


async def add_compaction(store: SessionStore, message: dict[str, Any], tokens: int) -> None:
    """Store the divider of a compaction (a system message); the context is now its summary."""
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO messages (id, session_id, role, status, content, error, model, tokens,"
            " cost, created_at, completed_at, context, parts) VALUES (:id, :session_id, :role,"
            " :status, :content, NULL, :model, 0, 0, :created_at, :completed_at, '[]', :parts)",
            {**message, "parts": json.dumps(message["parts"])},
        )
        await db.execute(
            "UPDATE sessions SET message_count = message_count + 1, context_tokens = ?,"
            " updated_at = ?, last_activity = ? WHERE id = ?",
            (tokens, message["created_at"], message["created_at"], message["session_id"]),
        )
