"""The store under faults: two servers on one file, a crash during a migration, a lock."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from jupyter_opencode.server.store import SessionStore, store
from jupyter_opencode.server.store.schema import MIGRATIONS


def _message(sid: str, mid: str, role: str, status: str) -> dict[str, Any]:
    now = time.time()
    return {
        "id": mid, "session_id": sid, "role": role, "status": status, "content": "",
        "error": None, "model": None, "created_at": now, "completed_at": None, "context": [],
    }  # fmt: skip


async def _start(db: SessionStore, sid: str) -> None:
    await db.start_turn(
        sid, _message(sid, f"{sid}-u", "user", "complete"),
        _message(sid, f"{sid}-a", "assistant", "pending"), None,
    )  # fmt: skip


def test_second_server_leaves_the_first_ones_answer_alone(tmp_path: Path) -> None:
    async def scenario() -> None:
        first = SessionStore(tmp_path / "s.db")
        await first.open()
        await _start(first, "session-first")
        second = SessionStore(tmp_path / "s.db")
        await second.open()  # another server of the same user starting up
        assert second.recovered == 0
        assert (await second.get_message("session-first-a") or {})["status"] == "pending"
        assert (await second.get_session("session-first") or {})["status"] == "active"
        await first.close()  # the first server dies
        third = SessionStore(tmp_path / "s.db")
        await third.open()
        assert third.recovered == 1
        assert (await third.get_message("session-first-a") or {})["status"] == "interrupted"
        await second.close()
        await third.close()

    asyncio.run(scenario())


def test_answer_of_a_dead_process_is_recovered(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead = f"{store._HOST}:{done.stdout.strip()}:1:abcd"

    async def scenario() -> None:
        db = SessionStore(tmp_path / "s.db")
        await db.open()
        await _start(db, "session-dead")
        await db.db.execute("UPDATE messages SET owner = ?", (dead,))
        await db.close()
        again = SessionStore(tmp_path / "s.db")
        await again.open()
        assert again.recovered == 1
        await again.close()

    asyncio.run(scenario())


def test_migration_and_version_bump_are_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash right after a migration must not leave it applied but unrecorded."""
    path = tmp_path / "s.db"
    extra = "ALTER TABLE sessions ADD COLUMN migration_probe TEXT;"
    monkeypatch.setattr(store, "MIGRATIONS", [*MIGRATIONS, extra])
    execute = aiosqlite.Connection.execute

    def crash_on_bump(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        if sql.startswith("PRAGMA user_version ="):
            raise OSError("the process died here")
        return execute(self, sql, *args)

    async def scenario() -> None:
        monkeypatch.setattr(aiosqlite.Connection, "execute", crash_on_bump)
        first = SessionStore(path)
        try:
            await first.open()
        finally:
            await first.close()
        monkeypatch.setattr(aiosqlite.Connection, "execute", execute)
        again = SessionStore(path)
        await again.open()  # before the fix: "duplicate column name: migration_probe"
        await again.close()

    asyncio.run(scenario())
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS) + 1,)


def test_database_locked_by_another_process(tmp_path: Path) -> None:
    """Another process holds the write lock for 10 s: writes wait, nothing is lost."""
    path = tmp_path / "s.db"

    async def scenario() -> None:
        db = SessionStore(path)
        await db.open()
        locker = subprocess.Popen(
            [sys.executable, "-c", (
                "import sqlite3, sys, time\n"
                f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
                "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(10)\n"
                "db.execute('COMMIT')\n"
            )], stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
            started = time.monotonic()
            await _start(db, "session-locked")
            assert time.monotonic() - started > 5.0  # it waited past the old 5 s limit for the lock
        finally:
            locker.wait(20)
            if locker.stdout is not None:
                locker.stdout.close()
        assert (await db.get_message("session-locked-a") or {})["status"] == "pending"
        assert await db.integrity_check() == "ok"
        await db.close()

    asyncio.run(scenario())
