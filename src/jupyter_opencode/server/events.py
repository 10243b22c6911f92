"""One subscription to opencode's event stream, fanned out by session, with catch-up after gaps."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..worker.adapter import OpencodeClient, OpencodeError

if TYPE_CHECKING:
    from .service import ChatService

log = logging.getLogger(__name__)


class EventHub:
    """Reads ``GET /event`` of the current worker and hands every event to the chat service."""

    def __init__(self, service: ChatService) -> None:
        self.service = service
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def connect(self, client: OpencodeClient) -> None:
        """Follow the events of a (new) worker."""
        self.disconnect()
        self._task = asyncio.ensure_future(self._run(client))

    def disconnect(self) -> None:
        """Stop following events."""
        self.connected.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _dispatch(self, event: object) -> None:
        """Hand one event on; one that cannot be handled is logged and the stream goes on."""
        try:
            if isinstance(event, dict):
                self.service.on_event(event)
        except Exception:
            log.error("handling opencode event %r failed", event, exc_info=True)

    async def _run(self, client: OpencodeClient) -> None:
        gap = False
        delay = 0.1
        while True:
            try:
                async for batch in client.events():
                    for event in batch:
                        if isinstance(event, dict) and event.get("type") == "server.connected":
                            self.connected.set()
                            delay = 0.1
                            if gap:
                                gap = False
                                await self.service.on_gap(client)
                            continue
                        self._dispatch(event)
            except (OpencodeError, OSError, ValueError):
                log.warning("opencode event stream failed", exc_info=True)
            self.connected.clear()
            gap = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
