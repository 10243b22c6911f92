"""``WS stream``: one socket, many sessions; replays from a seq, then streams live chunks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import ensure_async
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ...tasks import BackgroundTasks
from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..contract.schemas import CADENCE_MS, STREAM_QUERY
from ..contract.validation import Invalid, check, query_values
from ..library import UnknownAgent
from ..policy import ModelNotAllowed
from ..protocol import ServerFrame, accepted_frame, connected_frame, error_frame, text_chunk
from ..service import BUSY_PROMPT, Delta, SessionBusy, SessionDeleted
from .base import (
    SESSION_ID,
    JSONErrors,
    KernelTokenAuth,
    parse_attachments,
    parse_prompt,
    require_upgrade,
)

MAX_BACKLOG = 50_000
MAX_SUBSCRIPTIONS = 1000


@dataclass
class _Deltas:
    """Text deltas of one message, no other frame of its session between, to go as one chunk."""

    session_id: str
    message_id: str
    kind: str
    seq: int
    frame: str
    parts: list[str]

    @property
    def key(self) -> tuple[str, str, str]:
        """Which stream of deltas this is: session, message and kind."""
        return (self.session_id, self.message_id, self.kind)

    def encode(self) -> str:
        """The frame to send: the original one, or one chunk carrying all the deltas."""
        if len(self.parts) == 1:
            return self.frame
        merged = "".join(self.parts)
        return json.dumps(text_chunk(self.session_id, self.message_id, self.kind, merged, self.seq))


class StreamHandler(WebSocketMixin, WebSocketHandler, KernelTokenAuth, JSONErrors):
    """Sends the chunks of every session this client subscribed to, in seq order.

    Text deltas go at the client's cadence: those that come within one interval of the last
    frame sent wait for its end and go as one chunk (with the seq of the last), so a fast
    stream costs a client one frame per interval; any other frame goes at once, after them.
    """

    kernel_methods = frozenset(("GET",))

    def initialize(self) -> None:
        """Per-connection state."""
        self._sent: dict[str, int] = {}
        self._queue: deque[str | _Deltas] = deque()
        self._growing: dict[str, _Deltas] = {}
        self._wakeup = asyncio.Event()
        self._urgent = asyncio.Event()
        self._cadence = 0.0
        self._sent_at = -float("inf")
        self._tasks = BackgroundTasks(self.log)
        self._order = asyncio.Lock()

    async def pre_get(self) -> None:
        """Authorize before upgrading."""
        user = self.current_user
        if not await ensure_async(
            self.authorizer.is_authorized(self, user, "read", self.auth_resource)
        ):
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Upgrade to a WebSocket."""
        require_upgrade(self)
        await self.pre_get()
        try:
            cadence = query_values(STREAM_QUERY, self.request.query_arguments)["cadence_ms"]
        except Invalid as e:
            raise web.HTTPError(400, str(e), reason=e.reason) from e
        if cadence is None:
            cadence = self.settings["jupyter_opencode_app"].stream_cadence_ms
        self._cadence = cadence / 1000
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        """Greet the client and start the sender."""
        self._tasks.spawn(self._send_loop())
        self._send(connected_frame())

    def on_close(self) -> None:
        """Drop every subscription of this client."""
        self.service.unsubscribe(self)
        self._tasks.cancel_all()

    def deliver(self, session_id: str, seq: int, frame: str, delta: Delta | None = None) -> None:
        """Queue a frame (merging deltas until they are sent); drop a hopeless client."""
        if seq <= self._sent.get(session_id, -1):
            return
        self._sent[session_id] = seq
        if delta is not None:
            message_id, kind, text = delta
            # Only the session's newest queued frame may grow: its frames keep their order.
            waiting = self._growing.get(session_id)
            if waiting is not None and waiting.key == (session_id, message_id, kind):
                waiting.parts.append(text)
                waiting.seq = seq
                return
            self._growing[session_id] = _Deltas(session_id, message_id, kind, seq, frame, [text])
            self._queue.append(self._growing[session_id])
        elif len(self._queue) >= MAX_BACKLOG:
            self.service.unsubscribe(self)
            self.close(1013, "client too slow: reconnect and resubscribe with after_seq")
            return
        else:
            self._growing.pop(session_id, None)
            self._queue.append(frame)
            self._urgent.set()
        self._wakeup.set()

    def _send(self, data: ServerFrame) -> None:
        self._growing.pop(str(data.get("session_id", "")), None)
        self._queue.append(json.dumps(data))
        self._urgent.set()
        self._wakeup.set()

    def _error(self, message: str, reason: str, sid: str | None = None) -> None:
        """An error frame; it names the session when the refused frame named a valid one."""
        frame = error_frame(message, reason)
        if sid:
            frame["session_id"] = sid
        self._send(frame)

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._wakeup.wait()
                early = self._sent_at + self._cadence - loop.time()
                if early > 0 and not self._urgent.is_set():
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._urgent.wait(), early)
                self._wakeup.clear()
                self._urgent.clear()
                self._sent_at = loop.time()
                self._growing.clear()
                last = None
                while self._queue:
                    item = self._queue.popleft()
                    last = self.write_message(item if isinstance(item, str) else item.encode())
                if last is not None:
                    await last
        except WebSocketClosedError:
            self.service.unsubscribe(self)

    def on_message(self, message: str | bytes) -> None:
        """Handle subscribe, unsubscribe, prompt and cadence frames."""
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):
            self._error("frame is not valid JSON (or nested too deeply)", "bad_json")
            return
        if not isinstance(data, dict):
            self._error("frame must be a JSON object", "bad_json")
            return
        if data.get("type") == "cadence":
            self._set_cadence(data)
            return
        sid = data.get("session_id")
        if not isinstance(sid, str) or not SESSION_ID.match(sid):
            self._error(
                "'session_id' must be 8 to 64 characters of letters, digits, '-' or '_'",
                "bad_session_id",
            )
            return
        kind = data.get("type")
        if kind == "subscribe":
            after = data.get("after_seq", 0)
            if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                self._error("'after_seq' must be a non-negative integer", "bad_after_seq", sid)
                return
            if sid not in self._sent and len(self._sent) >= MAX_SUBSCRIPTIONS:
                self._error(
                    f"at most {MAX_SUBSCRIPTIONS} sessions per socket: unsubscribe from some first",
                    "too_many_subscriptions",
                    sid,
                )
                return
            self._sent[sid] = after
            self._spawn(self.service.subscribe(self, sid, after))
        elif kind == "unsubscribe":
            self._sent.pop(sid, None)
            self._spawn(self._unsubscribe(sid))
        elif kind == "prompt":
            self._spawn(self._prompt(sid, data))
        else:
            self._error("'type' must be subscribe, unsubscribe, prompt or cadence", "bad_type", sid)

    def _set_cadence(self, data: dict[str, Any]) -> None:
        """Send streamed text at the cadence the client shows it at (a cadence frame)."""
        try:
            cadence = check(CADENCE_MS.holder, {"cadence_ms": data.get("cadence_ms")})
        except Invalid as e:
            self._error(str(e), e.reason)
            return
        self._cadence = cadence["cadence_ms"] / 1000

    def _spawn(self, coro: Any) -> None:
        """Handle a frame in the background, after the frames received before it."""
        self._tasks.spawn(self._in_order(coro))

    async def _in_order(self, coro: Any) -> None:
        try:
            async with self._order:
                await coro
        finally:
            coro.close()  # cancelled while waiting its turn (socket closed): it never ran

    async def _unsubscribe(self, sid: str) -> None:
        self.service.unsubscribe(self, sid)

    async def _allowed(self, action: str) -> bool:
        """Whether this client may do ``action`` on the extension, as its REST twin asks."""
        allowed = self.authorizer.is_authorized(self, self.current_user, action, self.auth_resource)
        return bool(await ensure_async(allowed))

    async def _prompt(self, sid: str, data: dict[str, Any]) -> None:
        if not await self._allowed("write"):
            self._error("you may read these sessions but not send prompts", "forbidden", sid)
            return
        limit = self.settings["jupyter_opencode_app"].max_message_bytes
        try:
            text, model, context = parse_prompt(data, limit)
            attachments = await parse_attachments(data, self.settings["server_root_dir"])
            library = self.settings["jupyter_opencode_library"]
            result = await library.prompt(
                sid, text, model, context, agent=data.get("agent"), attachments=attachments
            )
        except web.HTTPError as e:
            self._error(e.log_message or "bad prompt", e.reason or "bad_request", sid)
            return
        except SessionBusy:
            self._error(BUSY_PROMPT, "busy", sid)
            return
        except SessionDeleted as e:
            self._error(str(e), e.reason, sid)
            return
        except ModelNotAllowed as e:
            self._error(str(e), "model_not_allowed", sid)
            return
        except UnknownAgent as e:
            self._error(str(e), "unknown_agent", sid)
            return
        except (WorkerError, OpencodeError) as e:
            self._error(str(e), "worker_unavailable", sid)
            return
        self._send(
            accepted_frame(
                sid, result["session"], result["user_message"], result["assistant_message"]
            )
        )
