"""Undo of an answer's file changes: 100 changed files put back, against plain writes of them."""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path
from typing import Any, cast

from harness import Figure, main
from jupyter_opencode.server.filechanges import FileChangeTracker
from jupyter_opencode.server.store import SessionStore
from jupyter_opencode.server.store.files import FileChangeRecords
from jupyter_opencode.server.turn import Turn

FILES = 100
LINES = 400  # ~20 KB per file, a typical source file
ROUNDS = 5
BENCH = "files"


def content(i: int, tag: str) -> bytes:
    """A file's text: numbered lines, one of them marked."""
    return "".join(f"line {n} of file {i} {tag if n == 7 else ''}\n" for n in range(LINES)).encode()


async def one_undo(store: SessionStore, root: Path) -> tuple[float, float]:
    """Seconds to undo 100 changed files (half edited, half created), and to write them plainly."""
    sid = f"bench-files-{uuid.uuid4().hex[:8]}"
    now = time.time()
    user: dict[str, Any] = {
        "id": uuid.uuid4().hex, "session_id": sid, "role": "user", "status": "complete",
        "content": "q", "error": None, "model": None, "created_at": now, "completed_at": now,
        "context": [],
    }  # fmt: skip
    answer = {**user, "id": uuid.uuid4().hex, "role": "assistant", "status": "pending"}
    await store.start_turn(sid, user, answer, None)
    records = FileChangeRecords(store)
    tracker = FileChangeTracker(cast(Any, None), records, root)
    paths = [root / sid / f"module_{i}.py" for i in range(FILES)]
    paths[0].parent.mkdir()
    for i, path in enumerate(paths[: FILES // 2]):
        path.write_bytes(content(i, "before"))
    befores = {str(p): (p.read_bytes() if p.exists() else None) for p in paths}
    await records.add_before(sid, answer["id"], befores)
    for i, path in enumerate(paths):
        path.write_bytes(content(i, "after"))
    await tracker.settle(Turn(session_id=sid, message_id=answer["id"], model=None, next_seq=0))

    started = time.perf_counter()
    result = await tracker.undo(answer["id"])
    undo = time.perf_counter() - started
    assert len(result["restored"]) == FILES and not result["skipped"], result
    assert not paths[-1].exists() and paths[0].read_bytes() == content(0, "before")

    started = time.perf_counter()
    for i, path in enumerate(paths):
        path.write_bytes(content(i, "before"))
    plain = time.perf_counter() - started
    return undo, plain


async def bench(tmp: Path) -> list[Figure]:
    """Median of a few undos of 100 files."""
    store = SessionStore(tmp / "sessions.db")
    await store.open()
    try:
        runs = [await one_undo(store, tmp) for _ in range(ROUNDS)]
    finally:
        await store.close()
    undo = statistics.median(u for u, _ in runs)
    plain = statistics.median(p for _, p in runs)
    return [
        Figure(BENCH, f"undo of {FILES} changed files, median", undo * 1000, "ms", 1000.0),
        Figure(BENCH, f"plain writes of the same {FILES} files (baseline)", plain * 1000, "ms"),
        Figure(BENCH, "undo / plain writes", undo / plain, "x", note="checks each file first"),
    ]


if __name__ == "__main__":
    main(bench)
