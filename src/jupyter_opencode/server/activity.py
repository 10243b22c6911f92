"""Answers in progress count as server activity, so idle cullers leave long agent runs alone.

Jupyter Server reports the newest of ``settings["last_activity_times"]`` as its
``last_activity`` (``GET api/status``, and what JupyterHub's single-user server posts to the
hub for jupyterhub-idle-culler). An answer streamed to no browser makes no request, so without
this the server looks idle while the agent works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from datetime import datetime, timezone

from ..tasks import BackgroundTasks

log = logging.getLogger(__name__)

ACTIVITY_KEY = "jupyter_opencode"


class ActivityReporter:
    """While ``busy()`` holds, stamps the server's activity every ``interval`` seconds."""

    def __init__(
        self,
        times: MutableMapping[str, datetime],
        busy: Callable[[], bool],
        interval: float,
    ) -> None:
        self._times = times
        self._busy = busy
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._tasks = BackgroundTasks(log)

    def mark(self) -> None:
        """Stamp activity now, and keep stamping while the server is busy."""
        self._times[ACTIVITY_KEY] = datetime.now(timezone.utc)
        if self._task is None or self._task.done():
            self._task = self._tasks.spawn(self._keep_marking())

    async def _keep_marking(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self._busy():
                return
            self._times[ACTIVITY_KEY] = datetime.now(timezone.utc)

    async def close(self) -> None:
        """Stop stamping."""
        await self._tasks.cancel()
