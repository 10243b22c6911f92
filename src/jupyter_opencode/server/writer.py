"""Batched persistence of streamed chunks: one transaction per frame, not per token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .store import SessionStore

Row = tuple[str, int, str, str, str]

log = logging.getLogger(__name__)


class ChunkWriter:
    """Buffers chunk rows and the text of open messages, and writes them every ``interval``."""

    def __init__(self, store: SessionStore, interval: float = 0.03, max_rows: int = 2000) -> None:
        self.store = store
        self.interval = interval
        self.max_rows = max_rows
        self._rows: list[Row] = []
        self._progress: dict[str, Callable[[], str]] = {}
        self._inflight: list[Row] = []
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()

    def add(self, row: Row, message_id: str, text: Callable[[], str]) -> None:
        """Queue one chunk row; ``text`` gives its message's text when the batch is written."""
        self._rows.append(row)
        self._progress[message_id] = text
        if len(self._rows) >= self.max_rows:
            self._schedule(0)
        elif self._timer is None:
            self._schedule(self.interval)

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, lambda: asyncio.ensure_future(self._flush_logged()))

    def pending(self, session_id: str) -> list[tuple[int, str]]:
        """(seq, frame) of a session's rows not yet committed."""
        return [(r[1], r[4]) for r in (*self._inflight, *self._rows) if r[0] == session_id]

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.error("writing chunks failed", exc_info=True)

    async def flush(self) -> None:
        """Write everything queued so far, in one transaction."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._rows and not self._progress:
                return
            self._inflight, self._rows = self._rows, []
            progress, self._progress = self._progress, {}
            try:
                texts = [(mid, text()) for mid, text in progress.items()]
                await self.store.write_chunks(self._inflight, texts)
            finally:
                self._inflight = []
