"""Notebooks open in a browser: which ones, and requests to the labextension that holds them."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Protocol


class LiveError(Exception):
    """The browser could not do what was asked, or went away before answering."""


class Browser(Protocol):
    """A labextension connection (a WebSocket) that can be sent JSON frames."""

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Send one frame to the browser."""


class LiveDocuments:
    """Which browser holds which open notebook, and the requests waiting for their answers."""

    def __init__(self) -> None:
        self._open: dict[Browser, list[str]] = {}
        self._waiting: dict[int, tuple[Browser, asyncio.Future[Any]]] = {}
        self._ids = itertools.count(1)

    def set_open(self, browser: Browser, paths: list[str]) -> None:
        """Replace the list of notebooks a browser has open (the last connected wins ties)."""
        self._open.pop(browser, None)
        self._open[browser] = list(paths)

    def forget(self, browser: Browser) -> None:
        """A browser went away: its notebooks are no longer open there; its requests fail."""
        self._open.pop(browser, None)
        for key, (owner, future) in list(self._waiting.items()):
            if owner is browser:
                del self._waiting[key]
                if not future.done():
                    future.set_exception(LiveError("the browser holding the notebook went away"))

    def paths(self) -> list[str]:
        """Every notebook open in some browser."""
        return sorted({path for paths in self._open.values() for path in paths})

    def holder(self, path: str) -> Browser | None:
        """The browser that has ``path`` open (the most recently connected one), if any."""
        for browser, paths in reversed(self._open.items()):
            if path in paths:
                return browser
        return None

    async def request(self, browser: Browser, frame: dict[str, Any], timeout: float) -> Any:
        """Send a request and wait for the browser's answer (its ``result``)."""
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = (browser, future)
        try:
            browser.send_frame({"type": "request", "id": request_id, **frame})
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError as e:
            raise LiveError(f"the browser did not answer within {timeout:.0f} s") from e
        finally:
            self._waiting.pop(request_id, None)

    def answer(self, browser: Browser, frame: dict[str, Any]) -> None:
        """A browser answered a request: ``{id, result}`` or ``{id, error}``."""
        waiting = self._waiting.get(frame.get("id"))  # type: ignore[arg-type]
        if waiting is None or waiting[0] is not browser or waiting[1].done():
            return
        if frame.get("error") is not None:
            waiting[1].set_exception(LiveError(str(frame["error"])))
        else:
            waiting[1].set_result(frame.get("result"))
