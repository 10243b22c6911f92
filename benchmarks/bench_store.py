"""Store: chunk persistence rate through ChunkWriter + SessionStore, and memory growth."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from harness import (
    Figure,
    Server,
    Stream,
    is_final,
    main,
    ready_worker,
    rss_mb,
    write_model_config,
)
from jupyter_opencode.server.store import SessionStore
from jupyter_opencode.server.store.schema import MIGRATIONS
from jupyter_opencode.server.writer import ChunkWriter, Row
from jupyter_opencode.testing import FakeModelProcess

CHUNKS = 50_000
BURST = 100
MESSAGES = 10_000
CHUNKS_PER_ANSWER = 10
WARM_PROMPTS = 50
SERVER_BUDGET = 45.0
WINDOWS = 3
BENCH = "store"


def messages(sid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user message and its pending answer, as the chat service makes them."""
    now = time.time()
    user: dict[str, Any] = {
        "id": uuid.uuid4().hex, "session_id": sid, "role": "user", "status": "complete",
        "content": "question", "error": None, "model": None, "created_at": now,
        "completed_at": now, "context": [],
    }  # fmt: skip
    return user, {**user, "id": uuid.uuid4().hex, "role": "assistant", "status": "pending",
                  "content": "", "completed_at": None}  # fmt: skip


def chunk_rows(sid: str, mid: str, first_seq: int, count: int) -> list[Row]:
    """Chunk rows shaped like the service's text chunks."""
    rows = []
    for seq in range(first_seq, first_seq + count):
        frame = {"type": "chunk", "session_id": sid, "message_id": mid, "kind": "text",
                 "delta": f"w{seq} ", "seq": seq}  # fmt: skip
        rows.append((sid, seq, mid, "text", json.dumps(frame)))
    return rows


async def open_turn(store: SessionStore, sid: str) -> dict[str, Any]:
    """Create a session's next turn; return its pending answer."""
    user, assistant = messages(sid)
    await store.start_turn(sid, user, assistant, None)
    return assistant


async def finish(store: SessionStore, assistant: dict[str, Any], text: str) -> None:
    """Store an answer's final state."""
    final = {**assistant, "status": "complete", "content": text, "parts": [], "tokens": 0,
             "cost": 0.0, "completed_at": time.time()}  # fmt: skip
    await store.finish_message(final)


async def writer_rate(path: Path) -> float:
    """Chunks per second written through ChunkWriter, fed in bursts as a stream would."""
    store = SessionStore(path)
    await store.open()
    assistant = await open_turn(store, "bench-store-rate")
    rows = chunk_rows("bench-store-rate", assistant["id"], 1, CHUNKS)
    writer = ChunkWriter(store)
    started = time.perf_counter()
    for index, row in enumerate(rows, start=1):
        writer.add(row, assistant["id"], lambda: "streamed text")
        if index % BURST == 0:
            await asyncio.sleep(0)
    await writer.flush()
    elapsed = time.perf_counter() - started
    await store.close()
    return CHUNKS / elapsed


def sqlite_rate(path: Path) -> float:
    """Baseline: the same rows inserted by plain sqlite3 in one transaction."""
    rows = chunk_rows("bench-store-raw", "m", 1, CHUNKS)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    db.executescript(MIGRATIONS[0])
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return CHUNKS / elapsed


async def store_growth(path: Path) -> tuple[float, float]:
    """RSS growth (MB) and seconds to store ``MESSAGES`` messages with chunks, in this process."""
    store = SessionStore(path)
    await store.open()
    writer = ChunkWriter(store)

    async def turn(index: int) -> None:
        sid = f"bench-store-{index % 100:04d}"
        assistant = await open_turn(store, sid)
        seq = await store.max_seq(sid)
        for row in chunk_rows(sid, assistant["id"], seq + 1, CHUNKS_PER_ANSWER):
            writer.add(row, assistant["id"], lambda: "streamed text " * 20)
        await writer.flush()
        await finish(store, assistant, "streamed text " * 20)

    await turn(0)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    for index in range(1, MESSAGES // 2 + 1):
        await turn(index)
    elapsed = time.perf_counter() - started
    gc.collect()
    growth = rss_mb() - before
    await store.close()
    return growth, elapsed


async def server_growth(tmp: Path) -> list[tuple[float, int]]:
    """RSS growth (MB) of a real server after a warm-up, and messages stored, per time window."""
    with FakeModelProcess() as model:
        config = write_model_config(tmp, model)
        with Server(tmp / "server", config=config, home=tmp / "home") as server:
            assert server.proc is not None
            stream = await Stream.open(server)
            await ready_worker(server, stream)
            for index in range(WARM_PROMPTS):
                await server_prompt(stream, f"bench-rss-warm-{index}")
            windows = []
            count = 0
            for _ in range(WINDOWS):
                before, stored = rss_mb(server.proc.pid), count
                deadline = time.perf_counter() + SERVER_BUDGET / WINDOWS
                while time.perf_counter() < deadline:
                    await server_prompt(stream, f"bench-rss-{count:04d}")
                    count += 1
                windows.append((rss_mb(server.proc.pid) - before, 2 * (count - stored)))
            stream.close()
    return windows


async def server_prompt(stream: Stream, sid: str) -> None:
    """One short prompt in a new session until its answer is final, then unsubscribe."""
    stream.send(type="subscribe", session_id=sid, after_seq=0)
    start = len(stream.frames)
    stream.send(type="prompt", session_id=sid, text="hello, how are you today?")
    await stream.wait_for(is_final(sid), start, 60.0)
    stream.send(type="unsubscribe", session_id=sid)


async def bench(tmp: Path) -> list[Figure]:
    """Run the store benchmarks (memory first, in a fresh process)."""
    growth, seconds = await store_growth(tmp / "growth.db")
    ours = await writer_rate(tmp / "rate.db")
    raw = sqlite_rate(tmp / "raw.db")
    windows = await server_growth(tmp)
    total_mb = sum(mb for mb, _ in windows)
    stored = sum(n for _, n in windows)
    last_mb, last_n = windows[-1]
    return [
        Figure(BENCH, "chunks persisted per second", ours, "/s", 20_000, at_least=True,
               note=f"ChunkWriter+SessionStore, {CHUNKS:,} chunks fed {BURST} per loop turn"),
        Figure(BENCH, "  vs plain sqlite3 executemany", ours / raw, "x",
               note=f"baseline {raw:,.0f}/s, same rows and schema, one transaction"),
        Figure(BENCH, "RSS growth, 10,000 messages via store", growth, "MB", 30.0,
               note=f"{MESSAGES // 2:,} turns, {CHUNKS_PER_ANSWER} chunks each, {seconds:.1f} s"),
        Figure(BENCH, "RSS growth, server, per 10,000 messages", last_mb / last_n * 10_000,
               "MB", 30.0, note=f"last of {WINDOWS} windows: {last_mb:+.2f} MB over {last_n:,}"
               f" messages, extrapolated; real server after {WARM_PROMPTS} warm-up prompts,"
               " each session unsubscribed when answered"),
        Figure(BENCH, "  RSS growth, server, all windows", total_mb, "MB",
               note=f"{stored:,} messages; per window: "
               + ", ".join(f"{mb:+.2f} MB/{n}" for mb, n in windows)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(bench)
