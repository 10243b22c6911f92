"""Coalesce browser ops into frames sent at most every `interval` seconds."""

from __future__ import annotations

import math
from typing import Any

Op = dict[str, Any]

FINAL_STATUSES = frozenset({"complete", "error", "interrupted", "aborted"})


def _message_id(op: Op) -> str | None:
    """The message an op targets."""
    if op.get("op") == "message":
        return op["message"].get("id")
    return op.get("id")


class FrameCoalescer:
    """Merge consecutive text/reasoning deltas per message and pace the flushes."""

    # The panel shows streamed text at most every 40 ms (js/src/pacer.js): frames sent more
    # often only cost the browser comm messages.
    def __init__(self, interval: float = 0.04) -> None:
        self.interval = interval
        self._ops: list[Op] = []
        self._open: dict[tuple[str, str], int] = {}
        self._urgent = False
        self._last_flush = -math.inf

    @property
    def pending(self) -> bool:
        """Whether a flush has something to deliver."""
        return bool(self._ops)

    def push(self, op: Op) -> None:
        """Queue one op, appending a delta to the open delta of its message and kind."""
        if op["op"] == "delta":
            key = (op["id"], op["kind"])
            index = self._open.get(key)
            if index is None:
                self._open[key] = len(self._ops)
                self._ops.append(dict(op))
            else:
                self._ops[index]["text"] += op["text"]
            return
        target = _message_id(op)
        # Later deltas must land after this op, so they may not merge into earlier ones.
        for key in [key for key in self._open if key[0] == target]:
            del self._open[key]
        if op["op"] == "message" and op["message"].get("status") in FINAL_STATUSES:
            self._urgent = True
        self._ops.append(op)

    def delay(self, now: float) -> float | None:
        """Seconds until the next flush is due: None when idle, 0 when due now."""
        if not self.pending:
            return None
        if self._urgent:
            return 0.0
        return max(0.0, self._last_flush + self.interval - now)

    def take(self, now: float) -> list[Op]:
        """Return the queued ops and start a new interval."""
        ops = self._ops
        self._ops, self._open = [], {}
        self._urgent = False
        self._last_flush = now
        return ops
