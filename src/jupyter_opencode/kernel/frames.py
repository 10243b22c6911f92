"""Coalesce the stream frames forwarded to the panel into batches sent at most every `interval`."""

from __future__ import annotations

import math

from ..server.protocol import MAX_CADENCE_MS, ServerFrame

FINAL_STATUSES = frozenset({"complete", "error", "interrupted", "aborted"})


class FrameCoalescer:
    """Merge consecutive text/reasoning chunks of a message and pace the flushes.

    Only a chunk right after one of the same message and kind merges into it (taking its seq):
    the batch keeps the session's seq order, so the panel drops no frame as a replay.
    """

    # The panel shows streamed text at most every 40 ms (js/src/pacer.js), less often when its
    # frames are dear, and says so (`pace`): frames sent more often only cost the browser.
    def __init__(self, interval: float = 0.04) -> None:
        self.interval = interval
        self._frames: list[ServerFrame] = []
        self._urgent = False
        self._last_flush = -math.inf

    @property
    def pending(self) -> bool:
        """Whether a flush has something to deliver."""
        return bool(self._frames)

    def pace(self, cadence_ms: object) -> bool:
        """Flush at most every `cadence_ms` from now on; False (and no change) if not 0-1000."""
        if type(cadence_ms) is not int or not 0 <= cadence_ms <= MAX_CADENCE_MS:
            return False
        self.interval = cadence_ms / 1000
        return True

    def push(self, frame: ServerFrame) -> None:
        """Queue one frame, merging a text chunk into the previous one of its message and kind."""
        last = self._frames[-1] if self._frames else None
        if (
            frame["type"] == "chunk"
            and frame["kind"] in ("text", "reasoning")
            and last is not None
            and last["type"] == "chunk"
            and (last["message_id"], last["kind"]) == (frame["message_id"], frame["kind"])
        ):
            last["delta"] = last.get("delta", "") + frame.get("delta", "")
            if "seq" in frame:
                last["seq"] = frame["seq"]
            return
        if frame["type"] == "chunk":
            frame = {**frame}  # merged into later: never the caller's copy
        elif frame["type"] == "rewind" or (
            frame["type"] == "message" and frame["message"].get("status") in FINAL_STATUSES
        ):
            self._urgent = True
        self._frames.append(frame)

    def delay(self, now: float) -> float | None:
        """Seconds until the next flush is due: None when idle, 0 when due now."""
        if not self.pending:
            return None
        if self._urgent:
            return 0.0
        return max(0.0, self._last_flush + self.interval - now)

    def take(self, now: float) -> list[ServerFrame]:
        """Return the queued frames and start a new interval."""
        frames = self._frames
        self._frames = []
        self._urgent = False
        self._last_flush = now
        return frames
