"""SQLite persistence of sessions, messages and streamed chunks (one aiosqlite connection, WAL)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from .schema import MIGRATIONS

_SESSION_FIELDS = (
    "id, title, model, status, parent_id, fork_message_id, opencode_session_id, notebook_path,"
    " created_at, updated_at, last_activity, message_count, tokens, cost,"
    " first_message_preview, starred, archived, tags"
)
_MESSAGE_FIELDS = (
    "id, session_id, role, status, content, error, model, tokens, cost, created_at,"
    " completed_at, context, parts"
)


def _session(row: aiosqlite.Row) -> dict[str, Any]:
    data = dict(row)
    data["starred"] = bool(data["starred"])
    data["archived"] = bool(data["archived"])
    data["tags"] = json.loads(data["tags"])
    return data


def _message(row: aiosqlite.Row) -> dict[str, Any]:
    data = dict(row)
    data["context"] = json.loads(data["context"])
    data["parts"] = json.loads(data["parts"])
    return data


class SessionStore:
    """Sessions, messages and chunks in one SQLite file; writes are serialized and batched."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.recovered = 0

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the session store is not open")
        return self._db

    async def open(self) -> None:
        """Open the file, migrate it, and mark work left open by an earlier process interrupted."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            await db.execute(f"PRAGMA {pragma}")
        self._db = db
        await self._migrate()
        self.recovered = await self._interrupt_open_messages()

    async def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction, serialized with every other write of this store."""
        return self._transaction()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._write_lock:
                await self.db.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
                await self.db.execute(f"PRAGMA user_version = {number}")

    async def _interrupt_open_messages(self) -> int:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE messages SET status = 'interrupted', completed_at = ?"
                " WHERE status IN ('pending', 'streaming')",
                (time.time(),),
            )
            await db.execute("UPDATE sessions SET status = 'idle' WHERE status = 'active'")
            return cursor.rowcount

    async def integrity_check(self) -> str:
        """Run SQLite's integrity check and return its verdict."""
        async with self.db.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "no answer"

    # sessions

    async def _one(
        self, sql: str, args: tuple[Any, ...], convert: Callable[[aiosqlite.Row], dict[str, Any]]
    ) -> dict[str, Any] | None:
        async with self.db.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return convert(row) if row else None

    async def get_session(self, sid: str) -> dict[str, Any] | None:
        """One session, or None."""
        sql = f"SELECT {_SESSION_FIELDS} FROM sessions WHERE id = ?"
        return await self._one(sql, (sid,), _session)

    async def list_sessions(
        self, limit: int, cursor: tuple[float, str] | None = None
    ) -> list[dict[str, Any]]:
        """Sessions, most recently updated first, after a keyset cursor."""
        where: str = ""
        args: tuple[float, str] | tuple[()] = ()
        if cursor is not None:  # keyset paging: strictly older than the last row seen
            where, args = "WHERE (updated_at, id) < (?, ?)", cursor
        async with self.db.execute(
            f"SELECT {_SESSION_FIELDS} FROM sessions {where}"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (*args, limit),
        ) as rows:
            return [_session(row) async for row in rows]

    async def rename_session(self, sid: str, title: str) -> bool:
        """Set a session's title; False when there is no such session."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?",
                (title, time.time(), sid),
            )
            return cursor.rowcount > 0

    async def delete_session(self, sid: str) -> bool:
        """Delete a session with its messages and chunks; False when there is none."""
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            return cursor.rowcount > 0

    async def set_opencode_session(self, sid: str, opencode_session_id: str) -> None:
        """Remember which opencode session backs a session."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE sessions SET opencode_session_id = ? WHERE id = ?",
                (opencode_session_id, sid),
            )

    async def start_turn(
        self,
        sid: str,
        user: dict[str, Any],
        assistant: dict[str, Any],
        model: str | None,
    ) -> dict[str, Any]:
        """Create the session if new, then its user message and pending assistant message."""
        now = time.time()
        preview = user["content"][:200]
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO sessions (id, model, status, created_at, updated_at, last_activity,"
                " first_message_preview, title) VALUES (?, ?, 'active', ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET status = 'active',"
                " updated_at = excluded.updated_at, last_activity = excluded.last_activity,"
                " model = coalesce(excluded.model, model)",
                (
                    sid,
                    model,
                    now,
                    now,
                    now,
                    preview,
                    preview.splitlines()[0][:80] if preview else "",
                ),
            )
            await db.executemany(
                f"INSERT INTO messages ({_MESSAGE_FIELDS}) VALUES"
                " (:id, :session_id, :role, :status, :content, :error, :model, 0, 0,"
                " :created_at, :completed_at, :context, '[]')",
                [
                    {**message, "context": json.dumps(message.get("context", []))}
                    for message in (user, assistant)
                ],
            )
            await db.execute(
                "UPDATE sessions SET message_count = message_count + 2 WHERE id = ?", (sid,)
            )
        session = await self.get_session(sid)
        assert session is not None
        return session

    async def fork_session(self, sid: str, new_id: str) -> dict[str, Any] | None:
        """Copy a session and its finished messages into a new session branching from it."""
        now = time.time()
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO sessions (id, title, model, status, parent_id, fork_message_id,"
                " notebook_path, settings, created_at, updated_at, last_activity,"
                " first_message_preview, tags)"
                " SELECT ?, title || ' (fork)', model, 'idle', id,"
                " (SELECT id FROM messages WHERE session_id = ? ORDER BY rowid DESC LIMIT 1),"
                " notebook_path, settings, ?, ?, ?, first_message_preview, tags"
                " FROM sessions WHERE id = ?",
                (new_id, sid, now, now, now, sid),
            )
            if cursor.rowcount == 0:
                return None
            await db.execute(
                f"INSERT INTO messages ({_MESSAGE_FIELDS})"
                " SELECT lower(hex(randomblob(16))), ?, role, status, content, error, model,"
                " tokens, cost, created_at, completed_at, context, parts"
                " FROM messages WHERE session_id = ? ORDER BY rowid",
                (new_id, sid),
            )
            await db.execute(
                "UPDATE sessions SET message_count ="
                " (SELECT count(*) FROM messages WHERE session_id = ?) WHERE id = ?",
                (new_id, new_id),
            )
        return await self.get_session(new_id)

    # messages

    async def get_message(self, mid: str) -> dict[str, Any] | None:
        """One message, or None."""
        sql = f"SELECT {_MESSAGE_FIELDS} FROM messages WHERE id = ?"
        return await self._one(sql, (mid,), _message)

    async def list_messages(
        self, sid: str, limit: int, before: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of a session's messages, oldest first, ending before a message id."""
        where, args = "session_id = ?", [sid]
        if before is not None:
            where += " AND rowid < (SELECT rowid FROM messages WHERE id = ?)"
            args.append(before)
        async with self.db.execute(
            f"SELECT {_MESSAGE_FIELDS} FROM messages WHERE {where} ORDER BY rowid DESC LIMIT ?",
            (*args, limit + 1),
        ) as rows:
            page = [_message(row) async for row in rows]
        return page[:limit][::-1], len(page) > limit

    async def page_with_seq(
        self, sid: str, limit: int, before: str | None = None
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """A page of messages and the session's last chunk seq, read in one transaction."""
        async with self._write_lock:
            await self.db.execute("BEGIN")
            try:
                page, more = await self.list_messages(sid, limit, before)
                last_seq = await self.max_seq(sid)
            finally:
                await self.db.execute("COMMIT")
        return page, more, last_seq

    async def finish_message(self, message: dict[str, Any]) -> None:
        """Store a message's final status, text, parts and usage; settle its session."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE messages SET status = :status, content = :content, error = :error,"
                " parts = :parts, tokens = :tokens, cost = :cost, completed_at = :completed_at"
                " WHERE id = :id",
                {**message, "parts": json.dumps(message["parts"])},
            )
            await db.execute(
                "UPDATE sessions SET status = 'idle', updated_at = :now, last_activity = :now,"
                " tokens = tokens + :tokens, cost = cost + :cost WHERE id = :sid",
                {
                    "now": time.time(),
                    "tokens": message["tokens"],
                    "cost": message["cost"],
                    "sid": message["session_id"],
                },
            )

    # chunks

    async def max_seq(self, sid: str) -> int:
        """The highest chunk seq of a session (0 when none)."""
        async with self.db.execute(
            "SELECT max(seq) FROM chunks WHERE session_id = ?", (sid,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0] or 0) if row else 0

    async def chunks_after(self, sid: str, after_seq: int) -> list[tuple[int, str]]:
        """(seq, frame) of a session's chunks with seq above ``after_seq``, in order."""
        async with self.db.execute(
            "SELECT seq, payload FROM chunks WHERE session_id = ? AND seq > ? ORDER BY seq",
            (sid, after_seq),
        ) as rows:
            return [(row[0], row[1]) async for row in rows]

    async def write_chunks(
        self,
        chunks: Sequence[tuple[str, int, str, str, str]],
        progress: Iterable[tuple[str, str]],
    ) -> None:
        """In one transaction: insert chunks and save the streamed text of open messages."""
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO chunks (session_id, seq, message_id, kind, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                chunks,
            )
            await db.executemany(
                "UPDATE messages SET status = 'streaming', content = ? WHERE id = ?"
                " AND status IN ('pending', 'streaming')",
                [(content, mid) for mid, content in progress],
            )
