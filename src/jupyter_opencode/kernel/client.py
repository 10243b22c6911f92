"""Network client of the kernel side, running its own asyncio loop on a daemon thread.

Errors: `OpencodeConnectionError` (a `ConnectionError`) when no server can be reached,
`OpencodeRequestError` when the server answers a request with an error status.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from ..server.protocol import ClientFrame, subscribe_frame, unsubscribe_frame
from .discovery import NO_SERVER_MESSAGE, ServerInfo, candidate_servers, normalize_url

log = logging.getLogger(__name__)

Event = dict[str, Any]
EventListener = Callable[[Event], None]
StateListener = Callable[[str, str], None]


class OpencodeConnectionError(ConnectionError):
    """No jupyter-opencode server could be reached."""


class OpencodeRequestError(RuntimeError):
    """The server answered a request with an error status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _error_message(exc: BaseException, server: ServerInfo) -> str:
    """Human text for a failed connection to `server`."""
    if isinstance(exc, HTTPClientError):
        if exc.code == 403:
            return f"The Jupyter server at {server.url} rejected the token (HTTP 403)."
        if exc.code == 404:
            return (
                f"The Jupyter server at {server.url} does not have jupyter-opencode "
                "enabled (HTTP 404)."
            )
        if exc.code != 599:
            return f"The Jupyter server at {server.url} answered HTTP {exc.code}."
    return f"Cannot reach the Jupyter server at {server.url}: {exc}"


async def close_socket(ws: WebSocketClientConnection, timeout: float = 1.0) -> None:
    """Close a WebSocket and wait for the server's close frame, else tear the connection down."""
    stream = ws.protocol.stream if ws.protocol is not None else None
    ws.close()
    if stream is None or stream.closed():
        return
    try:  # the reader hands over frames until the close ends the connection
        await asyncio.wait_for(_drain(ws), timeout)
    except asyncio.TimeoutError:  # the builtin TimeoutError from Python 3.11 on
        stream.close()


async def _drain(ws: WebSocketClientConnection) -> None:
    """Read what is left until the connection closes."""
    while await ws.read_message() is not None:
        pass


def attachment_name(disposition: str) -> str:
    """The file name of a ``Content-Disposition`` header (``filename*`` preferred)."""
    extended = re.search(r"filename\*=UTF-8''([^;]+)", disposition, re.IGNORECASE)
    if extended:
        return unquote(extended.group(1).strip())
    plain = re.search(r'filename="([^"]*)"', disposition)
    return plain.group(1) if plain else ""


def _body_message(exc: HTTPClientError) -> str:
    """The `message` of a JSON error body, else the HTTP reason."""
    if exc.response is not None and exc.response.body:
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(exc.response.body).get("message")
            if message:
                return str(message)
    return str(exc)


class ServerClient:
    """Thread-safe REST + WebSocket client of the jupyter-opencode server extension."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        connect_timeout: float = 3.0,
        request_timeout: float = 30.0,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        max_reconnects: int = 5,
    ) -> None:
        self._explicit = ServerInfo(normalize_url(url), token or "") if url else None
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_reconnects = max_reconnects
        self._retry: asyncio.Event | None = None
        self.connection = "connecting"
        self.connection_error = ""
        self._server: ServerInfo | None = None
        self._lock = threading.RLock()
        self._state_changed = threading.Condition(self._lock)
        self._listeners: dict[str, list[EventListener]] = {}
        self._last_seq: dict[str, int] = {}
        self._state_listeners: list[StateListener] = []
        self._ws: WebSocketClientConnection | None = None
        self._http: AsyncHTTPClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, name="jupyter-opencode-client", daemon=True
        )
        self._thread.start()

    # ----- thread-safe public API -------------------------------------------------------

    @property
    def server(self) -> ServerInfo | None:
        """The server currently connected to, if any."""
        return self._server

    def add_state_listener(self, listener: StateListener) -> None:
        """Call `listener(connection, error)` (on the client thread) on every state change."""
        with self._lock:
            self._state_listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        """Stop calling `listener`."""
        with self._lock, contextlib.suppress(ValueError):
            self._state_listeners.remove(listener)

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (True) or known offline / `timeout` elapsed (False)."""
        with self._state_changed:
            self._state_changed.wait_for(
                lambda: self.connection in ("connected", "offline"), timeout
            )
            return self.connection == "connected"

    def subscribe(self, session_id: str, listener: EventListener, after_seq: int = 0) -> bool:
        """Stream events of `session_id` to `listener`; True when this opened a subscription."""
        with self._lock:
            fresh = session_id not in self._listeners
            self._listeners.setdefault(session_id, []).append(listener)
            if fresh:
                self._last_seq[session_id] = after_seq
        if fresh:
            self._loop.call_soon_threadsafe(self._send_subscribe, session_id)
        return fresh

    def unsubscribe(self, session_id: str, listener: EventListener) -> None:
        """Stop streaming `session_id` to `listener`."""
        with self._lock:
            listeners = self._listeners.get(session_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if listeners or session_id not in self._listeners:
                return
            del self._listeners[session_id]
            self._last_seq.pop(session_id, None)
        self._loop.call_soon_threadsafe(self._write, unsubscribe_frame(session_id))

    def retry(self) -> None:
        """Try to connect again after the client gave up (state ``disconnected``)."""

        def wake() -> None:
            if self._retry is not None:
                self._retry.set()

        self._loop.call_soon_threadsafe(wake)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run `callback` on the client thread after `delay` seconds."""
        self._loop.call_soon_threadsafe(self._loop.call_later, delay, callback)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> concurrent.futures.Future[Any]:
        """Send a REST request under `{base_url}opencode/`; the future holds the JSON answer."""
        coro = self._request(method, path, body, params)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def post_message(
        self,
        session_id: str,
        text: str,
        model: str | None = None,
        context: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        **extra: str | None,
    ) -> concurrent.futures.Future[Any]:
        """Send a user message (the first creates the session); extra: template, notebook_path."""
        body: dict[str, Any] = {"text": text, **{k: v for k, v in extra.items() if v}}
        if model:
            body["model"] = model
        if context:
            body["context"] = context
        if attachments:
            body["attachments"] = attachments
        return self.request("POST", f"sessions/{quote(session_id)}/messages", body)

    def abort(self, session_id: str) -> concurrent.futures.Future[Any]:
        """Stop the reply streaming in `session_id`."""
        return self.request("POST", f"sessions/{quote(session_id)}/abort", {})

    def reply_permission(
        self, session_id: str, permission_id: str, reply: str
    ) -> concurrent.futures.Future[Any]:
        """Answer a permission prompt with once / always / reject."""
        path = f"sessions/{quote(session_id)}/permissions/{quote(permission_id)}"
        return self.request("POST", path, {"reply": reply})

    def answer_question(
        self, session_id: str, question_id: str, answers: list[list[str]] | None
    ) -> concurrent.futures.Future[Any]:
        """Answer a question of the agent (a list of labels per question), or dismiss it."""
        path = f"sessions/{quote(session_id)}/questions/{quote(question_id)}"
        return self.request("POST", path, {"answers": answers} if answers else {"reject": True})

    def list_messages(
        self, session_id: str, limit: int = 50, before: str | None = None
    ) -> concurrent.futures.Future[Any]:
        """One page of messages, oldest first, ending before message `before`."""
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        return self.request("GET", f"sessions/{quote(session_id)}/messages", params=params)

    def list_sessions(
        self, limit: int = 50, cursor: str | None = None
    ) -> concurrent.futures.Future[Any]:
        """One page of sessions, most recent first."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self.request("GET", "sessions", params=params)

    def fork(self, session_id: str) -> concurrent.futures.Future[Any]:
        """Fork `session_id` into a new session."""
        return self.request("POST", f"sessions/{quote(session_id)}/fork", {})

    def models(self) -> concurrent.futures.Future[Any]:
        """Available models and the default one."""
        return self.request("GET", "models")

    def status(self) -> concurrent.futures.Future[Any]:
        """Extension and worker status."""
        return self.request("GET", "status")

    def export(
        self, session_id: str, fmt: str, options: dict[str, bool] | None = None
    ) -> concurrent.futures.Future[tuple[bytes, str, str]]:
        """A session exported in `fmt`; the future holds (bytes, file name, media type)."""
        params = {"format": fmt, **{k: int(v) for k, v in (options or {}).items()}}
        coro = self._download(f"sessions/{quote(session_id)}/export", params)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def import_session(self, export: bytes) -> concurrent.futures.Future[Any]:
        """Create a new session from the bytes of a JSON export; the future holds the answer."""

        async def post() -> Any:
            response = await self._fetch("POST", "sessions/import", export, None)
            return json.loads(response.body)

        return asyncio.run_coroutine_threadsafe(post(), self._loop)

    def close(self) -> None:
        """Close the socket and stop the client thread."""
        if self._closing:
            return
        self._closing = True
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            future.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # ----- client thread ----------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self._socket_loop())
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task  # its socket is closed on the way out
        if self._http is not None:
            self._http.close()

    def _set_state(self, connection: str, error: str) -> None:
        with self._state_changed:
            if (connection, error) == (self.connection, self.connection_error):
                return
            self.connection, self.connection_error = connection, error
            self._state_changed.notify_all()
            listeners = list(self._state_listeners)
        for listener in listeners:
            try:
                listener(connection, error)
            except Exception:
                log.error("jupyter-opencode state listener failed", exc_info=True)

    async def _find_server(self) -> ServerInfo:
        if self._explicit is not None:
            return self._explicit
        candidates = candidate_servers()
        if len(candidates) == 1:
            return candidates[0]
        for server in candidates:
            request = HTTPRequest(
                server.api_url("status"),
                headers=server.headers,
                connect_timeout=self.connect_timeout,
                request_timeout=self.connect_timeout,
            )
            try:
                await self._http_client().fetch(request)
            except (HTTPClientError, OSError):
                continue
            return server
        raise OpencodeConnectionError(NO_SERVER_MESSAGE)

    def _http_client(self) -> AsyncHTTPClient:
        if self._http is None:
            self._http = AsyncHTTPClient(force_instance=True)
        return self._http

    async def _wait_for_retry(self) -> None:
        self._retry = asyncio.Event()
        await self._retry.wait()
        self._retry = None

    async def _socket_loop(self) -> None:
        backoff = self.initial_backoff
        failures = 0
        was_connected = False
        while not self._closing:
            server: ServerInfo | None = None
            try:
                server = await self._find_server()
                ws = await websocket_connect(
                    HTTPRequest(
                        server.ws_url("stream"),
                        headers=server.headers,
                        connect_timeout=self.connect_timeout,
                        request_timeout=self.connect_timeout,
                    )
                )
            except (OpencodeConnectionError, HTTPClientError, OSError, TimeoutError) as exc:
                error = str(exc) if server is None else _error_message(exc, server)
                failures += 1
                if was_connected and failures >= self.max_reconnects:
                    # Stop hammering a server that is gone: say so, and wait for a retry.
                    self._set_state("disconnected", f"{error} (gave up after {failures} tries)")
                    await self._wait_for_retry()
                    failures, backoff = 0, self.initial_backoff
                    continue
                self._set_state("reconnecting" if was_connected else "offline", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._ws, self._server = ws, server
            backoff, failures = self.initial_backoff, 0
            was_connected = True
            with self._lock:
                sessions = list(self._listeners)
            for session_id in sessions:
                self._send_subscribe(session_id)
            self._set_state("connected", "")
            try:
                await self._read(ws)
            finally:  # also when the server closed it: tornado warns of it otherwise
                self._ws = None
                await close_socket(ws)
            if not self._closing:
                self._set_state(
                    "reconnecting", f"Lost the connection to {server.url}; reconnecting…"
                )
                await asyncio.sleep(backoff)

    async def _read(self, ws: WebSocketClientConnection) -> None:
        while True:
            raw = await ws.read_message()
            if raw is None:
                return
            try:
                event = json.loads(raw)
            except ValueError:
                log.warning("jupyter-opencode: ignoring a non-JSON frame")
                continue
            if isinstance(event, dict):
                self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "error":
            log.warning("jupyter-opencode server: %s", event.get("message"))
            return
        session_id = event.get("session_id")
        if not isinstance(session_id, str):
            return
        with self._lock:
            if kind == "chunk":
                seq = int(event.get("seq") or 0)
                if seq <= self._last_seq.get(session_id, 0):
                    return
                self._last_seq[session_id] = seq
            listeners = list(self._listeners.get(session_id, ()))
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.error("jupyter-opencode event listener failed", exc_info=True)

    def _send_subscribe(self, session_id: str) -> None:
        with self._lock:
            if session_id not in self._listeners:
                return
            after_seq = self._last_seq.get(session_id, 0)
        self._write(subscribe_frame(session_id, after_seq))

    def _write(self, frame: ClientFrame) -> None:
        if self._ws is None:
            return
        try:
            self._ws.write_message(json.dumps(frame))
        except WebSocketClosedError:
            log.debug("jupyter-opencode: socket closed before %s", frame.get("type"))

    async def _request(
        self, method: str, path: str, body: Any, params: dict[str, Any] | None
    ) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        response = await self._fetch(method, path, payload, params)
        return json.loads(response.body) if response.body else None

    async def _fetch(
        self, method: str, path: str, payload: bytes | None, params: dict[str, Any] | None
    ) -> HTTPResponse:
        server = self._server or await self._find_server()
        url = server.api_url(path) + (f"?{urlencode(params)}" if params else "")
        if payload is None and method in ("POST", "PATCH", "PUT"):
            payload = b"{}"
        request = HTTPRequest(
            url,
            method=method,
            headers={**server.headers, "Content-Type": "application/json"},
            body=payload,
            connect_timeout=self.connect_timeout,
            request_timeout=self.request_timeout,
        )
        try:
            return await self._http_client().fetch(request)
        except HTTPClientError as exc:
            if exc.code == 599:
                raise OpencodeConnectionError(_error_message(exc, server)) from exc
            raise OpencodeRequestError(exc.code, _body_message(exc)) from exc
        except OSError as exc:
            raise OpencodeConnectionError(_error_message(exc, server)) from exc

    async def _download(self, path: str, params: dict[str, Any]) -> tuple[bytes, str, str]:
        response = await self._fetch("GET", path, None, params)
        headers = response.headers
        return (
            response.body,
            attachment_name(headers.get("Content-Disposition", "")),
            str(headers.get("Content-Type", "application/octet-stream")),
        )


_default: ServerClient | None = None
_default_lock = threading.Lock()


def default_client() -> ServerClient:
    """The kernel's shared client (one socket for every Chat)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ServerClient()
        return _default
