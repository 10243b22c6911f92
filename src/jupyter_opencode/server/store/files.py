"""The files opencode's edit tools changed, per answer: before and after, for listing and undo."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .store import SessionStore


@dataclass
class FileRecord:
    """One file an answer changed: its content before and after (None: the file did not exist)."""

    id: int
    path: str
    before: bytes | None
    after: bytes | None


class FileChangeRecords:
    """Reads and writes the ``file_changes`` table."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def add_before(
        self, session_id: str, message_id: str, befores: dict[str, bytes | None]
    ) -> None:
        """Keep how files were before an answer first touched them (later calls change nothing)."""
        now = time.time()
        async with self.store.transaction() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO file_changes (session_id, message_id, path, before,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                [(session_id, message_id, path, data, now) for path, data in befores.items()],
            )

    async def unsettled(self, message_id: str) -> list[FileRecord]:
        """The files of an answer whose final state is not read yet."""
        return await self._select("message_id = ? AND settled = 0", (message_id,))

    async def settle(self, afters: dict[int, bytes | None], unchanged: list[int]) -> None:
        """Keep what the answer left in each file; forget the files it did not change after all."""
        async with self.store.transaction() as db:
            await db.executemany(
                "UPDATE file_changes SET after = ?, settled = 1 WHERE id = ?",
                [(data, rid) for rid, data in afters.items()],
            )
            await db.executemany("DELETE FROM file_changes WHERE id = ?", [(i,) for i in unchanged])

    async def changes(self, message_id: str) -> list[FileRecord]:
        """The settled changes of an answer that are not undone, in the order first touched."""
        return await self._select(
            "message_id = ? AND settled = 1 AND undone_at IS NULL", (message_id,)
        )

    async def made_any(self, session_id: str, message_id: str) -> bool:
        """Whether an answer of this session changed files (kept after a rewind removed it)."""
        async with self.store.db.execute(
            "SELECT 1 FROM file_changes WHERE session_id = ? AND message_id = ? LIMIT 1",
            (session_id, message_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def mark_undone(self, ids: list[int]) -> None:
        """Mark changes as undone."""
        now = time.time()
        async with self.store.transaction() as db:
            await db.executemany(
                "UPDATE file_changes SET undone_at = ? WHERE id = ?", [(now, i) for i in ids]
            )

    async def _select(self, where: str, args: tuple[str, ...]) -> list[FileRecord]:
        async with self.store.db.execute(
            f"SELECT id, path, before, after FROM file_changes WHERE {where} ORDER BY id", args
        ) as rows:
            return [
                FileRecord(int(r["id"]), str(r["path"]), r["before"], r["after"])
                async for r in rows
            ]
