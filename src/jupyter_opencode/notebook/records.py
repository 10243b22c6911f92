"""What the notebook tools keep in the session database: "Always" answers and every change."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from ..server.store import SessionStore
from .cells import Change


class NotebookRecords:
    """ "Always" answers per session and kind of change, and the changes each answer made."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def always(self, session_id: str, kind: str) -> bool:
        """Whether the user answered "Always" to this kind of change in this session."""
        async with self.store.db.execute(
            "SELECT 1 FROM notebook_always WHERE session_id = ? AND kind = ?", (session_id, kind)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def remember_always(self, session_id: str, kind: str) -> None:
        """Remember an "Always" answer (it outlives server restarts)."""
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO notebook_always (session_id, kind, created_at)"
                " VALUES (?, ?, ?)",
                (session_id, kind, time.time()),
            )

    async def add_change(self, session_id: str, message_id: str, path: str, change: Change) -> None:
        """Record a change as it landed, with the answer that made it."""
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO notebook_changes (session_id, message_id, path, change, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (session_id, message_id, path, json.dumps(asdict(change)), time.time()),
            )

    async def made_any(self, session_id: str, message_id: str) -> bool:
        """Whether an answer of this session changed notebooks (kept after a rewind removed it)."""
        async with self.store.db.execute(
            "SELECT 1 FROM notebook_changes WHERE session_id = ? AND message_id = ? LIMIT 1",
            (session_id, message_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def changes(self, message_id: str) -> list[dict[str, Any]]:
        """The changes an answer made that are not undone yet, oldest first."""
        async with self.store.db.execute(
            "SELECT id, session_id, path, change, created_at FROM notebook_changes"
            " WHERE message_id = ? AND undone_at IS NULL ORDER BY id",
            (message_id,),
        ) as rows:
            return [
                {**dict(row), "change": Change(**json.loads(row["change"]))} async for row in rows
            ]

    async def mark_undone(self, ids: list[int]) -> None:
        """Mark changes as undone."""
        async with self.store.transaction() as db:
            await db.executemany(
                "UPDATE notebook_changes SET undone_at = ? WHERE id = ?",
                [(time.time(), change_id) for change_id in ids],
            )
