"""The SQLite store on a real file: migrations, recovery of open work, batched chunk writes."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jupyter_opencode.server.store import SessionStore
from jupyter_opencode.server.store.schema import MIGRATIONS
from jupyter_opencode.server.writer import ChunkWriter, Row


def _message(sid: str, mid: str, role: str, status: str, content: str = "") -> dict[str, Any]:
    now = time.time()
    return {
        "id": mid, "session_id": sid, "role": role, "status": status, "content": content,
        "error": None, "model": None, "created_at": now, "completed_at": None, "context": [],
    }  # fmt: skip


async def _open(path: Path) -> SessionStore:
    store = SessionStore(path)
    await store.open()
    return store


def test_recovery_marks_open_messages_interrupted(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await _open(tmp_path / "s.db")
        await store.start_turn(
            "session-1", _message("session-1", "u1", "user", "complete", "hi"),
            _message("session-1", "a1", "assistant", "pending"), None,
        )  # fmt: skip
        writer = ChunkWriter(store)
        writer.add(("session-1", 1, "a1", "text", '{"delta": "par"}'), "a1", lambda: "partial")
        await writer.flush()
        assert (await store.get_message("a1") or {})["status"] == "streaming"
        await store.close()  # as if the server died here

        again = await _open(tmp_path / "s.db")
        assert again.recovered == 1
        message = await again.get_message("a1")
        assert message is not None
        assert (message["status"], message["content"]) == ("interrupted", "partial")
        assert (await again.get_session("session-1") or {})["status"] == "idle"
        assert await again.integrity_check() == "ok"
        third = await _open(tmp_path / "s.db")
        assert third.recovered == 0
        await again.close()
        await third.close()

    asyncio.run(scenario())
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_writer_batches_chunks_into_few_transactions(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await _open(tmp_path / "s.db")
        await store.start_turn(
            "session-2", _message("session-2", "u2", "user", "complete", "hi"),
            _message("session-2", "a2", "assistant", "pending"), None,
        )  # fmt: skip
        transactions = 0
        original = store.write_chunks

        async def counting(chunks: Sequence[Row], progress: Iterable[tuple[str, str]]) -> None:
            nonlocal transactions
            transactions += 1
            await original(chunks, progress)

        store.write_chunks = counting  # type: ignore[method-assign]
        writer = ChunkWriter(store, interval=0.03)
        text = ""
        for seq in range(1, 5001):
            text += f"w{seq} "
            row = ("session-2", seq, "a2", "text", f'{{"seq": {seq}}}')

            def joined(text: str = text) -> str:
                return text

            writer.add(row, "a2", joined)
            if seq % 500 == 0:
                assert len(writer.pending("session-2")) > 0
                await asyncio.sleep(0.04)
        await writer.flush()
        assert transactions <= 20
        rows = await store.chunks_after("session-2", 4990)
        assert [seq for seq, _ in rows] == list(range(4991, 5001))
        assert (await store.get_message("a2") or {})["content"] == text
        assert writer.pending("session-2") == []
        await store.close()

    asyncio.run(scenario())


def test_paging_messages_and_sessions(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await _open(tmp_path / "s.db")
        for i in range(3):
            await store.start_turn(
                "session-3", _message("session-3", f"u{i}", "user", "complete", f"q{i}"),
                _message("session-3", f"a{i}", "assistant", "pending"), None,
            )  # fmt: skip
        page, more = await store.list_messages("session-3", 2)
        assert [m["id"] for m in page] == ["u2", "a2"] and more
        page, more = await store.list_messages("session-3", 10, before="u2")
        assert [m["id"] for m in page] == ["u0", "a0", "u1", "a1"] and not more
        session = await store.get_session("session-3")
        assert session is not None and session["message_count"] == 6
        assert session["first_message_preview"] == "q0"
        assert await store.delete_session("session-3")
        assert await store.chunks_after("session-3", 0) == []
        assert await store.list_messages("session-3", 10) == ([], False)
        await store.close()

    asyncio.run(scenario())
