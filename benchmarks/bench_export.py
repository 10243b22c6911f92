"""Export: a 1,000-message session in every format, against reading its messages."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from harness import Figure, main, median
from jupyter_opencode.server.export.importing import import_session
from jupyter_opencode.server.export.options import FORMATS, ExportOptions
from jupyter_opencode.server.export.pipeline import export_chunks
from jupyter_opencode.server.store import SessionStore

MESSAGES = 1_000
RUNS = 3
TARGET_S = 2.0
BENCH = "export"


ANSWER = (
    "Rows with a missing **region** are dropped by default:\n\n"
    "```python\ndf.groupby('region', dropna=False)['revenue'].sum()\n"
    "df['region'].isna().sum()\n```\n\n"
    "- `dropna=False` keeps them as their own group\n- or fill them first\n\n"
    "| region | revenue |\n|---|---|\n| north | 10 |\n| NaN | 3 |\n"
)
CELL = "df = pd.read_csv('sales.csv')\ndf.groupby('region').sum()"
TOOL = {
    "kind": "tool",
    "name": "bash",
    "status": "completed",
    "title": "head",
    "input": {"command": "head sales.csv"},
    "output": "region,revenue\n" * 20,
}


def exchange(i: int) -> list[dict[str, Any]]:
    """A question with cell context, and a Markdown answer (a tool call in every tenth)."""
    question = {
        "role": "user",
        "content": f"Question {i}: why does the groupby on `region` drop rows?",
        "created_at": 1.7e9 + 10 * i,
        "context": [{"kind": "cell", "label": f"In [{i}]", "text": CELL}],
    }
    answer = {
        "role": "assistant",
        "content": f"Answer {i}. {ANSWER}",
        "created_at": 1.7e9 + 10 * i + 5,
        "parts": [TOOL] if i % 10 == 0 else [],
        "model": "fake/echo-1",
        "tokens": 300,
        "cost": 0.001,
    }
    return [question, answer]


def conversation() -> dict[str, Any]:
    """A JSON export of a data-analysis chat of MESSAGES messages."""
    return {
        "format": "jupyter-opencode.session",
        "version": 1,
        "session": {"title": "Regional revenue", "tags": ["sales"]},
        "messages": [m for i in range(MESSAGES // 2) for m in exchange(i)],
    }


async def read_all(store: SessionStore, sid: str) -> float:
    """Seconds to read every message of the session (the baseline)."""
    started = time.perf_counter()
    count = sum([len(batch) async for batch in store.message_batches(sid)])
    assert count == MESSAGES
    return time.perf_counter() - started


async def export_once(
    store: SessionStore, session: dict[str, Any], fmt: str
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (all threads) and bytes of one export."""
    started, cpu = time.perf_counter(), time.process_time()
    size = 0
    async for chunk in export_chunks(store, session, fmt, ExportOptions()):
        size += len(chunk)
    return time.perf_counter() - started, time.process_time() - cpu, size


async def bench(tmp: Path) -> list[Figure]:
    """Import the session once, then time the baseline and every format."""
    store = SessionStore(tmp / "export.db")
    await store.open()
    body = json.dumps(conversation()).encode()
    started = time.perf_counter()
    session = await import_session(store, body, 1 << 30)
    imported = time.perf_counter() - started
    baseline = median([await read_all(store, session["id"]) for _ in range(RUNS)])
    figures = [
        Figure(BENCH, "read 1,000 messages (baseline)", baseline * 1000, "ms",
               note="SessionStore.message_batches, median of 3"),
        Figure(BENCH, "import 1,000 messages", imported * 1000, "ms",
               note=f"POST sessions/import's work on a {len(body) / 1e6:.1f} MB export"),
    ]  # fmt: skip
    for fmt in FORMATS:
        runs = [await export_once(store, session, fmt) for _ in range(RUNS)]
        seconds, cpu = median([r[0] for r in runs]), median([r[1] for r in runs])
        note = (
            f"{seconds / baseline:,.1f}x the baseline, CPU {cpu:.2f} s, {runs[0][2] / 1e6:.2f} MB"
        )
        figures.append(
            Figure(BENCH, f"export 1,000 messages as {fmt}", seconds, "s", TARGET_S, note=note)
        )
    await store.close()
    return figures


if __name__ == "__main__":
    main(bench)
