"""SQLite persistence of sessions, messages and streamed chunks (one aiosqlite connection, WAL)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from .schema import MIGRATIONS

_SESSION_FIELDS = (
    "id, title, model, status, parent_id, fork_message_id, opencode_session_id, notebook_path,"
    " created_at, updated_at, last_activity, message_count, tokens, cost,"
    " first_message_preview, starred, archived, tags, imported_from, context_tokens,"
    " context_limit, json_extract(settings, '$.agent') AS agent"
)
_MESSAGE_FIELDS = (
    "id, session_id, role, status, content, error, model, tokens, cost, created_at,"
    " completed_at, context, attachments, parts"
)
# Messages as read: with their annotation (rating and note), if any.
_MESSAGE_SELECT = (
    "SELECT "
    + ", ".join(f"m.{name.strip()}" for name in _MESSAGE_FIELDS.split(","))
    + ", a.rating AS annotation_rating, a.note AS annotation_note"
    " FROM messages m LEFT JOIN annotations a ON a.message_id = m.id"
)


_HOST = socket.gethostname()
# Owners of the stores open in this process: a same-pid owner not listed here is gone.
_LIVE_OWNERS: set[str] = set()


def _process_start(pid: int) -> str:
    """When a process started (Linux ``/proc``), to tell a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _new_owner() -> str:
    pid = os.getpid()
    return f"{_HOST}:{pid}:{_process_start(pid)}:{secrets.token_hex(4)}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the server process that wrote an open answer may still be writing it."""
    if not owner or owner.count(":") < 3:
        return False
    host, pid_text, started, _ = owner.rsplit(":", 3)
    if host != _HOST:
        return True  # another machine's process: only it may end its answers
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return owner in _LIVE_OWNERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _process_start(pid) == started


def _create_private(path: Path) -> None:
    """Create the database file and its folder readable by this user only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _session(row: aiosqlite.Row) -> dict[str, Any]:
    data = dict(row)
    data["starred"] = bool(data["starred"])
    data["archived"] = bool(data["archived"])
    data["tags"] = json.loads(data["tags"])
    data["imported_from"] = json.loads(data["imported_from"] or "null")
    return data


def _message(row: aiosqlite.Row) -> dict[str, Any]:
    data = dict(row)
    data["context"] = json.loads(data["context"])
    data["attachments"] = json.loads(data["attachments"])
    data["parts"] = json.loads(data["parts"])
    rating, note = data.pop("annotation_rating", None), data.pop("annotation_note", None)
    data["annotation"] = None if note is None else {"rating": rating, "note": note}
    return data


class SessionStore:
    """Sessions, messages and chunks in one SQLite file; writes are serialized and batched."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.recovered = 0
        self.owner = _new_owner()

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the session store is not open")
        return self._db

    async def open(self) -> None:
        """Open the file, migrate it, and mark work left open by an earlier process interrupted."""
        if self.path != ":memory:":
            # SQLite gives its -wal and -shm files the mode of the database file.
            _create_private(Path(self.path))
        # Another process may hold the write lock for a while (a backup, a second server).
        db = await aiosqlite.connect(self.path, isolation_level=None, timeout=30.0)
        db.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            await db.execute(f"PRAGMA {pragma}")
        self._db = db
        await self._migrate()
        self.recovered = await self._interrupt_open_messages()
        _LIVE_OWNERS.add(self.owner)

    async def close(self) -> None:
        """Close the connection."""
        _LIVE_OWNERS.discard(self.owner)
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction, serialized with every other write."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                # SQLite has already rolled back after some errors (e.g. a full disk).
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # The migration and its version bump commit together, or neither does.
            async with self._write_lock:
                try:
                    await self.db.executescript(
                        f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                    )
                except sqlite3.Error:
                    if self.db.in_transaction:
                        await self.db.execute("ROLLBACK")
                    raise

    async def _interrupt_open_messages(self) -> int:
        """Mark interrupted the open answers whose server process is gone (not another's)."""
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id, owner FROM messages WHERE status IN ('pending', 'streaming')"
            ) as rows:
                orphans = [(row[0],) async for row in rows if not _owner_alive(row[1])]
            now = time.time()
            await db.executemany(
                "UPDATE messages SET status = 'interrupted', completed_at = ? WHERE id = ?",
                [(now, mid) for (mid,) in orphans],
            )
            await db.execute(
                "UPDATE sessions SET status = 'idle' WHERE status = 'active' AND id NOT IN"
                " (SELECT session_id FROM messages WHERE status IN ('pending', 'streaming'))"
            )
            return len(orphans)

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

    async def select_sessions(self, clause: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """Sessions selected by an SQL clause (WHERE ... ORDER BY ... LIMIT) and its arguments."""
        sql = f"SELECT {_SESSION_FIELDS} FROM sessions {clause}"
        async with self.db.execute(sql, args) as rows:
            return [_session(row) async for row in rows]

    async def session_settings(self, sid: str) -> dict[str, Any]:
        """A session's settings (empty when there is no such session)."""
        async with self.db.execute("SELECT settings FROM sessions WHERE id = ?", (sid,)) as cursor:
            row = await cursor.fetchone()
        return dict(json.loads(row[0])) if row else {}

    async def delete_session(self, sid: str) -> bool:
        """Delete a session with its messages and chunks, keeping its id; False when none."""
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            if cursor.rowcount == 0:
                return False
            await db.execute(
                "INSERT OR IGNORE INTO deleted_sessions (id, deleted_at) VALUES (?, ?)",
                (sid, time.time()),
            )
            return True

    async def was_deleted(self, sid: str) -> bool:
        """Whether a session with this id existed and was deleted."""
        sql = "SELECT 1 FROM deleted_sessions WHERE id = ?"
        async with self.db.execute(sql, (sid,)) as cursor:
            return await cursor.fetchone() is not None

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
        notebook_path: str | None = None,
    ) -> dict[str, Any]:
        """Create the session if new, then its user message and pending assistant message."""
        now = time.time()
        preview = user["content"][:200]
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO sessions (id, model, status, created_at, updated_at, last_activity,"
                " first_message_preview, title, notebook_path)"
                " VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET status = 'active',"
                " updated_at = excluded.updated_at, last_activity = excluded.last_activity,"
                " model = coalesce(excluded.model, model),"
                " notebook_path = coalesce(notebook_path, excluded.notebook_path),"
                " first_message_preview = CASE WHEN first_message_preview = ''"
                " THEN excluded.first_message_preview ELSE first_message_preview END",
                (
                    sid,
                    model,
                    now,
                    now,
                    now,
                    preview,
                    preview.splitlines()[0][:80] if preview else "",
                    notebook_path,
                ),
            )
            await db.executemany(
                f"INSERT INTO messages ({_MESSAGE_FIELDS}, owner) VALUES"
                " (:id, :session_id, :role, :status, :content, :error, :model, 0, 0,"
                " :created_at, :completed_at, :context, :attachments, '[]', :owner)",
                [
                    {
                        **message,
                        "context": json.dumps(message.get("context", [])),
                        "attachments": json.dumps(message.get("attachments", [])),
                        "owner": self.owner,
                    }
                    for message in (user, assistant)
                ],
            )
            await db.execute(
                "UPDATE sessions SET message_count = message_count + 2 WHERE id = ?", (sid,)
            )
        session = await self.get_session(sid)
        assert session is not None
        return session

    # messages

    async def get_message(self, mid: str) -> dict[str, Any] | None:
        """One message, or None."""
        sql = f"{_MESSAGE_SELECT} WHERE m.id = ?"
        return await self._one(sql, (mid,), _message)

    async def list_messages(
        self, sid: str, limit: int, before: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of a session's messages, oldest first, ending before a message id."""
        where, args = "m.session_id = ?", [sid]
        if before is not None:
            where += " AND m.rowid < (SELECT rowid FROM messages WHERE id = ?)"
            args.append(before)
        async with self.db.execute(
            f"{_MESSAGE_SELECT} WHERE {where} ORDER BY m.rowid DESC LIMIT ?",
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
                " parts = :parts, tokens = :tokens, cost = :cost, completed_at = :completed_at,"
                " model = coalesce(:model, model) WHERE id = :id",
                {**message, "model": message.get("model"), "parts": json.dumps(message["parts"])},
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

    # export and import

    async def message_batches(
        self, sid: str, size: int = 250
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """A session's messages, oldest first, read ``size`` at a time (never all at once)."""
        after = ""
        while True:
            async with self.db.execute(
                f"{_MESSAGE_SELECT} WHERE m.session_id = ? AND m.rowid >"
                " coalesce((SELECT rowid FROM messages WHERE id = ?), 0) ORDER BY m.rowid LIMIT ?",
                (sid, after, size),
            ) as rows:
                batch = [_message(row) async for row in rows]
            if not batch:
                return
            after = batch[-1]["id"]
            yield batch

    async def insert_imported(
        self,
        session: dict[str, Any],
        messages: list[dict[str, Any]],
        annotations: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> dict[str, Any]:
        """Create a session, its messages and their notes in one transaction (all or nothing)."""
        fields = list(session)
        async with self._transaction() as db:
            await db.execute(
                f"INSERT INTO sessions ({', '.join(fields)})"
                f" VALUES ({', '.join(':' + f for f in fields)})",
                session,
            )
            await db.executemany(
                f"INSERT INTO messages ({_MESSAGE_FIELDS}) VALUES (:id, :session_id, :role,"
                " :status, :content, :error, :model, :tokens, :cost, :created_at, :completed_at,"
                " :context, :attachments, :parts)",
                messages,
            )
            await db.executemany(
                "INSERT INTO annotations (message_id, session_id, rating, note, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (mid, session["id"], a.get("rating"), a.get("note", ""), session["created_at"])
                    for mid, a in annotations
                ],
            )
        created = await self.get_session(session["id"])
        assert created is not None
        return created
