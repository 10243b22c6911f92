"""Synced traits of the Chat, written only on the kernel's thread, relayed live as messages.

traitlets and ipywidgets are not thread-safe: a trait set from the client's thread would race
the kernel's own comm handling (state echo, ``hold_sync``, observers). A write from another
thread therefore sends a custom ``state`` message at once, so the panel shows it live even
while a cell runs, and the traits themselves are set on the kernel's thread when it is free
(with ``state_version``, so the browser keeps the newer of the two).

Custom messages may be sent from any thread: ipykernel (7.4 checked) sends a comm message
with ``session.send`` on ``kernel.iopub_socket``, a ``BackgroundSocket`` that queues the send
to its IOPub thread (``IOPubThread.schedule``, one event pipe per sending thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from IPython import get_ipython

from . import comm


class KernelLoop(Protocol):
    """The part of the kernel's tornado IOLoop used here (thread-safe)."""

    def add_callback(self, callback: Callable[..., Any], *args: Any) -> None: ...


class Synced(Protocol):
    """The widget whose traits are relayed."""

    def send(self, content: comm.StateMessage) -> None: ...

    def hold_sync(self) -> Any: ...


def kernel_loop() -> KernelLoop | None:
    """The loop of the kernel running this code (None outside a kernel)."""
    kernel = getattr(get_ipython(), "kernel", None)
    return getattr(kernel, "io_loop", None)


class TraitRelay:
    """Sets synced traits on the kernel's thread; other threads' writes go live as messages."""

    def __init__(self, widget: Synced, lock: threading.RLock) -> None:
        self._widget = widget
        self._lock = lock
        # Chat() runs in a cell: this is the kernel's thread, where its loop runs.
        self._thread = threading.current_thread()
        self._loop = kernel_loop()
        self._pending: dict[str, Any] = {}
        self._version = 0
        self._scheduled = False

    def on_kernel_thread(self) -> bool:
        """Whether traits may be set here (always, outside a kernel: no comm handling races)."""
        return self._loop is None or threading.current_thread() is self._thread

    def set(self, **values: Any) -> None:
        """Give traits new values: now on the kernel's thread, else live then when it is free."""
        with self._lock:
            self._version += 1
            self._pending.update(values)
            if self.on_kernel_thread():
                self._apply()
                return
            self._widget.send(comm.state(self._version, values))
            if not self._scheduled and self._loop is not None:
                self._scheduled = True
                self._loop.add_callback(self._apply_later)

    def get(self, name: str) -> Any:
        """The newest value of a trait, written or still waiting for the kernel's thread."""
        with self._lock:
            if name in self._pending:
                return self._pending[name]
            return getattr(self._widget, name)

    def flush(self) -> None:
        """Set the waiting values now, when called on the kernel's thread."""
        if self.on_kernel_thread():
            with self._lock:
                self._apply()

    def call(self, callback: Callable[..., None], *args: Any) -> None:
        """Run `callback` on the kernel's thread: now when here, else when it is free."""
        if self._loop is None or threading.current_thread() is self._thread:
            callback(*args)
        else:
            self._loop.add_callback(callback, *args)

    def _apply_later(self) -> None:
        with self._lock:
            self._scheduled = False
            self._apply()

    def _apply(self) -> None:
        """Set the waiting traits and their version in one state update (lock held)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        pending["state_version"] = self._version
        with self._widget.hold_sync():
            for name, value in pending.items():
                setattr(self._widget, name, value)
