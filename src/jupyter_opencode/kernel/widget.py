"""The `Chat` anywidget: a view of one server-side session, streamed over the widget comm."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import anywidget
import traitlets
from IPython import get_ipython

from ..server.protocol import ServerFrame, message_frame
from . import comm, library, panel, transfer
from .attaching import prompt_attachments
from .client import (
    Event,
    OpencodeConnectionError,
    OpencodeRequestError,
    ServerClient,
    default_client,
)
from .context import CellRecord, CellRecorder, cell_attachment, describe, find_name, new_attachment
from .conversation import PAGE_SIZE, Conversation
from .discovery import NO_SERVER_MESSAGE
from .frames import FINAL_STATUSES, FrameCoalescer
from .reply import Patience, Reply, ReplyOutput, ReplyWaiter, wait_step
from .state import TraitRelay

log = logging.getLogger(__name__)

DISPLAY_INTERVAL = 0.1
_STATIC = Path(__file__).parent.parent / "static"
_FALLBACK_ESM = """
export default {
  render({ el }) {
    el.textContent = "jupyter-opencode: the chat panel is not built (static/chat.js missing).";
  },
};
"""


def _asset(name: str, fallback: str) -> Path | str:
    """The built static file, or `fallback` text when the frontend was not built."""
    path = _STATIC / name
    return path if path.is_file() else fallback


def waiting_question(
    messages: list[dict[str, Any]], question_id: str | None = None
) -> dict[str, Any]:
    """The question part the agent waits on (the last one, or the one with this id)."""
    for message in reversed(messages):
        for part in reversed(message.get("parts") or []):
            if part.get("kind") != "question" or "answers" in part or part.get("rejected"):
                continue
            if question_id is None or part.get("id") == question_id:
                return part
    raise ValueError("no question of the agent is waiting for an answer")


def new_session_id() -> str:
    """A fresh client-chosen session id."""
    return uuid.uuid4().hex


def _answer(future: concurrent.futures.Future[Any], what: str) -> Any:
    """The answer of a best-effort request, or None (logged) when it failed."""
    exc = future.exception()
    if exc is None:
        return future.result()
    if isinstance(exc, OpencodeConnectionError):
        log.debug("jupyter-opencode: could not %s: %s", what, exc)  # the banner says it
    else:
        log.warning("jupyter-opencode: could not %s", what, exc_info=exc)
    return None


class Chat(anywidget.AnyWidget):
    """A chat panel with the opencode agent, bound to one session of the server."""

    _esm = _asset("chat.js", _FALLBACK_ESM)
    _css = _asset("chat.css", "")

    session_id = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    # The agent picked in the panel ("": the session's own); opencode's agents and commands.
    agent = traitlets.Unicode("").tag(sync=True)
    agents = traitlets.List(traitlets.Dict()).tag(sync=True)
    opencode_commands = traitlets.List(traitlets.Dict()).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    connection = traitlets.Unicode("connecting").tag(sync=True)
    connection_error = traitlets.Unicode("").tag(sync=True)
    context = traitlets.List(traitlets.Dict()).tag(sync=True)
    auto_context = traitlets.Bool(True).tag(sync=True)
    sessions = traitlets.List(traitlets.Dict()).tag(sync=True)
    # Which `state` message the traits above include (see state.py).
    state_version = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        session: str | None = None,
        model: str | None = None,
        *,
        client: ServerClient | None = None,
        auto_context: bool = True,
        **kwargs: Any,
    ) -> None:
        self._client = client or default_client()
        self._lock = threading.RLock()
        self._conversation = Conversation()
        self._frames = FrameCoalescer()
        self._flush_scheduled = False
        self._waiters: dict[str, ReplyWaiter] = {}
        self._auto_chip: str | None = None
        self._needs_load = False
        self._template: str | None = None
        super().__init__(model=model or "", auto_context=auto_context, **kwargs)
        self._relay = TraitRelay(self, self._lock)
        shell = get_ipython()
        self._recorder = CellRecorder.install(shell) if shell is not None else None
        if self._recorder is not None:
            self._recorder.mark_chat_cell()
            self._recorder.add_listener(self._on_cell)
            last = self._recorder.last(1)
            if last:
                self._on_cell(last[0])
        self.on_msg(lambda _widget, content, _buffers: panel.handle_browser_message(self, content))
        self._client.add_state_listener(self._on_connection)
        self._on_connection(self._client.connection, self._client.connection_error)
        self._attach(session or new_session_id(), load=session is not None)

    # ----- Python API ---------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages of the current session, oldest first (as loaded and streamed so far)."""
        with self._lock:
            return copy.deepcopy(self._conversation.messages)

    def ask(
        self,
        text: str,
        *,
        files: Iterable[str | os.PathLike[str]] = (),
        images: Iterable[object] = (),
        display_reply: bool = True,
        timeout: float | None = None,
    ) -> Reply:
        """Send `text`, show the answer streaming in the cell output, return it when done.

        ``files``: paths of files or folders under the Jupyter root; ``images``: Matplotlib
        figures, PNG/JPEG/GIF/WebP bytes or image paths.
        """
        attachments = prompt_attachments(files, images, library.notebook_path())
        waiter = self._start_reply(text, attachments)
        output = ReplyOutput(display_reply)
        patience = Patience(self._client, timeout)
        try:
            while (reply := wait_step(waiter, output, patience, DISPLAY_INTERVAL)) is None:
                pass
            return reply
        except KeyboardInterrupt:
            self._client.abort(self.session_id)
            raise
        finally:
            self._forget(waiter)
            self._relay.flush()  # so the rest of the cell reads `busy`, `context`... up to date

    async def ask_async(
        self,
        text: str,
        *,
        files: Iterable[str | os.PathLike[str]] = (),
        images: Iterable[object] = (),
        display_reply: bool = True,
        timeout: float | None = None,
    ) -> Reply:
        """Awaitable `ask`: the kernel stays responsive while the answer streams."""
        loop = asyncio.get_running_loop()
        if self._recorder is not None:
            self._recorder.mark_chat_cell()
        attachments = prompt_attachments(files, images, library.notebook_path())
        waiter = await loop.run_in_executor(None, self._start_reply, text, attachments)
        output = ReplyOutput(display_reply)
        patience = Patience(self._client, timeout)
        try:
            while (reply := wait_step(waiter, output, patience, 0)) is None:
                await asyncio.sleep(DISPLAY_INTERVAL)
            return reply
        finally:
            self._forget(waiter)

    def answer(
        self, *answers: str | list[str], question_id: str | None = None, dismiss: bool = False
    ) -> None:
        """Answer the agent's waiting question: per question, a label or a list of labels (or
        text of your own); ``dismiss=True`` declines to answer."""
        question = waiting_question(self.messages, question_id)
        chosen = None if dismiss else [[a] if isinstance(a, str) else list(a) for a in answers]
        future = self._client.answer_question(self.session_id, question["id"], chosen)
        future.result(self._client.request_timeout)

    def stop(self) -> None:
        """Abort the reply streaming in this session."""
        self._client.abort(self.session_id).result(self._client.request_timeout)

    def new(self) -> None:
        """Start a new conversation (created on the server by its first message)."""
        self._attach(new_session_id(), load=False)

    def fork(self, message_id: str | None = None) -> str:
        """Continue in a new branch holding the messages up to `message_id` (default all)."""
        return library.fork(self, message_id)

    def rewind(self, n: int = 1) -> list[str]:
        """Take back the last `n` exchanges, here and in the agent's memory; the removed ids."""
        return library.rewind(self, n)

    def search(self, q: str, limit: int = library.SEARCH_LIMIT) -> list[dict[str, Any]]:
        """Search every conversation: hits with session_id, message_id, title and snippet."""
        return library.search(self, q, limit)

    def load(self, session_id: str) -> None:
        """Switch this panel to an existing session."""
        self._attach(session_id, load=True)

    def export(
        self,
        format: str = "md",
        path: str | os.PathLike[str] | None = None,
        *,
        timestamps: bool = True,
        context: bool = True,
        redact: bool = False,
    ) -> Path:
        """Save this session as md, txt, json, html, pdf, docx or ipynb; the file's path.

        Without ``path`` (or with a folder) the file is named after the title and saved next
        to the notebook, never over an existing file.
        """
        options = {"timestamps": timestamps, "context": context, "redact": redact}
        return transfer.save_export(self._client, self.session_id, format, path, options)

    @classmethod
    def import_session(
        cls, path: str | os.PathLike[str], *, client: ServerClient | None = None, **kwargs: Any
    ) -> Chat:
        """A chat on a new session made from a JSON export file (``chat.export("json")``)."""
        client = client or default_client()
        session = transfer.import_file(client, path)
        return cls(session=session["id"], client=client, **kwargs)

    def list_sessions(self) -> list[dict[str, Any]]:
        """Sessions on the server, most recent first."""
        page = self._client.list_sessions().result(self._client.request_timeout)
        self._set_sessions(page.get("sessions", []))
        return list(page.get("sessions", []))

    def attach(self, obj: object, label: str | None = None) -> dict[str, Any]:
        """Attach a summary of `obj` (DataFrame: shape, dtypes, head) to the next message."""
        name = label or find_name(get_ipython(), obj)
        chip = new_attachment(*describe(obj, name))
        with self._lock:
            self._set(context=[*self._trait("context"), chip])
        return chip

    def attach_chips(self, items: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Attach items ({kind, label, text}) to the next message, in place of the auto chip."""
        chips = [new_attachment(i["kind"], i["label"], i["text"]) for i in items]
        with self._lock:
            kept = [c for c in self._trait("context") if c.get("id") != self._auto_chip]
            self._auto_chip = None
            self._set(context=[*kept, *chips])
        return chips

    def insert_cell(self, code: str, run: bool = False) -> None:
        """Insert `code` as a code cell below this chat's cell (JupyterLab), running it if asked."""
        self.to_panel(comm.insert_cell(code, run))

    def attach_cells(self, count: int = 1) -> list[dict[str, Any]]:
        """Attach the last `count` executed cells (source, output, error) to the next message."""
        records = self._recorder.last(count) if self._recorder is not None else []
        chips = [cell_attachment(r) for r in records]
        with self._lock:
            self._set(context=[*self._trait("context"), *chips])
        return chips

    def remove_context(self, chip_id: str | None = None) -> None:
        """Drop one pending attachment by its id, or all of them."""
        with self._lock:
            kept = [c for c in self._trait("context") if chip_id is not None and c["id"] != chip_id]
            self._set(context=kept)
            if chip_id is None or chip_id == self._auto_chip:
                self._auto_chip = None

    def close(self) -> None:
        """Detach from the server and the notebook, then close the widget."""
        self._client.unsubscribe(self.session_id, self._on_event)
        self._client.remove_state_listener(self._on_connection)
        if self._recorder is not None:
            self._recorder.remove_listener(self._on_cell)
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self._recorder is not None:
            self._recorder.mark_chat_cell()
        return super()._repr_mimebundle_(**kwargs)

    # ----- sending --------------------------------------------------------------------------

    def _start_reply(self, text: str, attachments: list[dict[str, Any]]) -> ReplyWaiter:
        """Post `text` (blocking) and return a waiter for the assistant message."""
        if not self._client.wait_connected(self._client.connect_timeout + 1):
            raise OpencodeConnectionError(self._client.connection_error or NO_SERVER_MESSAGE)
        if self._trait("busy"):
            raise RuntimeError("This chat is still answering: wait for it or call chat.stop().")
        if self._recorder is not None:
            self._recorder.mark_chat_cell()
        message_id = self.post(text, attachments=attachments).result(
            self._client.request_timeout + 5
        )
        waiter = ReplyWaiter(message_id)
        with self._lock:
            message = self._conversation.get(message_id)
            if message is not None:
                waiter.update(message)
            self._waiters[message_id] = waiter
        return waiter

    def _forget(self, waiter: ReplyWaiter) -> None:
        """Stop updating `waiter` (its `ask` returned, raised or was interrupted)."""
        with self._lock:
            if self._waiters.get(waiter.message_id) is waiter:
                del self._waiters[waiter.message_id]

    # ----- what the panel, the library and exports use (kernel/panel.py, library.py, transfer.py)

    @property
    def client(self) -> ServerClient:
        """The client of the server this chat talks to."""
        return self._client

    @property
    def answering(self) -> bool:
        """Whether a reply is on its way (the newest `busy`, whichever thread wrote it)."""
        return bool(self._trait("busy"))

    def update_traits(self, **values: Any) -> None:
        """Set synced traits from any thread: on the kernel's thread, live to the panel first."""
        self._set(**values)

    def to_panel(self, message: comm.KernelMessage, buffers: list[bytes] | None = None) -> None:
        """Send the panel a comm message, after the stream frames queued before it."""
        with self._lock:
            self._flush()
            self.send(message, buffers)

    def notify(self, level: Literal["info", "error"], text: str) -> None:
        """Show the user a notice in the panel."""
        self.to_panel(comm.notice(level, text))

    def apply_frame(self, frame: ServerFrame) -> None:
        """Apply a stream frame here and in the panel (our own rewind, before the server's)."""
        with self._lock:
            self._forward(frame)
            self._set(busy=self._conversation.busy)

    def keep_annotation(self, message_id: str, annotation: dict[str, Any] | None) -> None:
        """Record a message's stored rating and note, here and in the panel."""
        with self._lock:
            message = self._conversation.get(message_id)
            if message is not None:
                message["annotation"] = annotation
            self.to_panel(comm.annotation(message_id, annotation))

    def refresh_panel(self) -> None:
        """Send a (re)rendered panel everything: the conversation, the sessions, the models."""
        self._send_reset()
        self._refresh_sessions()
        self._refresh_models()
        self._refresh_toolset()

    def set_cadence(self, cadence_ms: object) -> None:
        """Forward streamed text to the panel at most every `cadence_ms` (how often it shows it)."""
        with self._lock:
            if not self._frames.pace(cadence_ms):
                log.warning("jupyter-opencode: ignoring the panel's cadence %r (ms)", cadence_ms)

    def load_older(self, before: str) -> None:
        """Send the panel the page of messages before message `before`."""
        session_id = self.session_id

        def loaded(future: concurrent.futures.Future[Any]) -> None:
            exc = future.exception()
            if exc is not None:
                self.notify("error", str(exc))
                return
            page = future.result()
            with self._lock:
                if session_id != self.session_id:
                    return
                conversation = self._conversation
                older = conversation.prepend(page.get("messages", []), bool(page.get("has_more")))
                self.to_panel(comm.older(older, conversation.has_more))

        self._client.list_messages(session_id, PAGE_SIZE, before or None).add_done_callback(loaded)

    def use_template(self, name: str) -> None:
        """Start this (empty) conversation's first message with a template."""
        with self._lock:
            if self._conversation.messages:
                raise ValueError("A template starts a conversation: type /new first.")
            self._template = name

    def post(
        self,
        text: str,
        command: tuple[str, str] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> concurrent.futures.Future[str]:
        """Send a user message with the pending context and ``attachments`` (or run an opencode
        ``command``: name, arguments); the future holds the reply's id."""
        with self._lock:
            chips = list(self._trait("context"))
            self._auto_chip = None
            self._set(context=[], busy=True)
        context = [{"kind": c["kind"], "label": c["label"], "text": c["text"]} for c in chips]
        session_id = self.session_id
        result: concurrent.futures.Future[str] = concurrent.futures.Future()

        def posted(future: concurrent.futures.Future[Any]) -> None:
            try:
                answer = future.result()
            except (OpencodeConnectionError, OpencodeRequestError) as exc:
                with self._lock:
                    self._set(context=[*chips, *self._trait("context")], busy=False)
                result.set_exception(exc)
                return
            with self._lock:
                if session_id == self.session_id:
                    self._forward(message_frame(session_id, answer["user_message"]))
                    self._forward(message_frame(session_id, answer["assistant_message"]))
                    if answer.get("session", {}).get("title"):
                        self._set(title=answer["session"]["title"])
            result.set_result(answer["assistant_message"]["id"])

        agent = self.agent or None
        if command is not None:
            name, arguments = command
            body = {"command": name, "arguments": arguments, "model": self.model or None}
            path = f"sessions/{quote(session_id)}/command"
            self._client.request("POST", path, {**body, "agent": agent}).add_done_callback(posted)
            return result
        template, self._template = self._template, None
        self._client.post_message(
            session_id,
            text,
            self.model or None,
            context,
            attachments,
            template=template,
            notebook_path=library.notebook_path(),
            agent=agent,
        ).add_done_callback(posted)
        return result

    # ----- session binding ------------------------------------------------------------------

    def _attach(self, session_id: str, *, load: bool) -> None:
        """Bind the panel to `session_id`, loading its history when it may exist."""
        if not self._relay.on_kernel_thread():
            # A fork or an edit answered on another thread: switch where traits may be set.
            self._relay.call(functools.partial(self._attach, session_id, load=load))
            return
        with self._lock:
            if self.session_id:
                self._client.unsubscribe(self.session_id, self._on_event)
            self._frames.take(time.monotonic())
            self._conversation.reset([], False)
            self._waiters.clear()
            self._set(session_id=session_id, title="", busy=False)
            self._template = None
            self._needs_load = load
            if not load:
                self._client.subscribe(session_id, self._on_event)
                self._send_reset()
        if load:
            self._load()

    def _load(self) -> None:
        """Fetch the latest page of the session, then subscribe from where it ends."""
        session_id = self.session_id

        def loaded(future: concurrent.futures.Future[Any]) -> None:
            try:
                page = future.result()
            except OpencodeRequestError as exc:
                if exc.code != 404:
                    self.notify("error", f"Could not load the session: {exc}")
                    return
                page = {"messages": [], "has_more": False}  # not created yet
            except OpencodeConnectionError:
                return  # reloaded on (re)connection
            with self._lock:
                if session_id != self.session_id or not self._needs_load:
                    return
                self._needs_load = False
                messages = page.get("messages", [])
                seq = int(page.get("last_seq") or 0)
                self._conversation.reset(messages, bool(page.get("has_more")), seq)
                fresh = self._client.subscribe(session_id, self._on_event, seq)
                if fresh and "last_seq" not in page:
                    # Replay starts at seq 0: rebuild in-flight bodies from the chunks.
                    self._conversation.clear_in_flight()
                self._set(busy=self._conversation.busy)
                self._send_reset()

        self._client.list_messages(session_id, PAGE_SIZE).add_done_callback(loaded)
        self._client.request("GET", f"sessions/{session_id}").add_done_callback(
            lambda future: self._on_session_info(session_id, future)
        )

    def _on_session_info(self, session_id: str, future: concurrent.futures.Future[Any]) -> None:
        exc = future.exception()
        if isinstance(exc, OpencodeRequestError) and exc.code == 404:
            return  # not created yet: the first prompt creates it
        session = _answer(future, "read the session title")
        with self._lock:
            if session is not None and session_id == self.session_id:
                # The agent the session answers with shows as picked, unless one is already.
                agent = self.agent or session.get("agent") or ""
                self._set(title=session.get("title") or "", agent=agent)

    def _catch_up(self) -> None:
        """After a reconnection, re-read the latest page: final messages sent meanwhile."""
        session_id = self.session_id

        def fetched(future: concurrent.futures.Future[Any]) -> None:
            page = _answer(future, "catch up with the session")
            with self._lock:
                if page is None or session_id != self.session_id:
                    return
                for message in page.get("messages", []):
                    if message.get("status") in FINAL_STATUSES:
                        self._forward(message_frame(session_id, message))
                        self._settle(message)

        self._client.list_messages(session_id, PAGE_SIZE).add_done_callback(fetched)

    def _set_sessions(self, sessions: list[dict[str, Any]]) -> None:
        keys = ("id", "title", "updated_at", "message_count")
        with self._lock:
            self._set(sessions=[{k: s.get(k) for k in keys} for s in sessions])

    def _refresh_sessions(self) -> None:
        def listed(future: concurrent.futures.Future[Any]) -> None:
            page = _answer(future, "list the sessions")
            if page is not None:
                self._set_sessions(page.get("sessions", []))

        self._client.list_sessions().add_done_callback(listed)

    def _refresh_toolset(self) -> None:
        def listed(name: str, future: concurrent.futures.Future[Any]) -> None:
            answer = _answer(future, f"list opencode's {name}")
            if answer is not None:
                with self._lock:
                    trait = "agents" if name == "agents" else "opencode_commands"
                    self._set(**{trait: answer[name]})

        for name in ("agents", "commands"):
            self._client.request("GET", name).add_done_callback(functools.partial(listed, name))

    def _refresh_models(self) -> None:
        def listed(future: concurrent.futures.Future[Any]) -> None:
            answer = _answer(future, "list the models")
            if answer is None:
                return
            models = [
                {"id": m.get("id"), "name": m.get("name") or m.get("id")}
                for m in answer.get("models", [])
            ]
            with self._lock:
                if not self._trait("model") and answer.get("default"):
                    self._set(models=models, model=answer["default"])
                else:
                    self._set(models=models)

        self._client.models().add_done_callback(listed)

    # ----- events from the server (client thread) ---------------------------------------------

    def _on_connection(self, connection: str, error: str) -> None:
        with self._lock:
            was_connected = self._trait("connection") == "connected"
            self._set(connection=connection, connection_error=error)
        if connection != "connected" or was_connected:
            return
        if self._needs_load:
            self._load()
        elif any(m.get("status") not in FINAL_STATUSES for m in self.messages):
            self._catch_up()
        if not self._trait("models"):
            self._refresh_models()
        self._refresh_toolset()

    def _on_event(self, event: Event) -> None:
        with self._lock:
            if event.get("session_id") != self.session_id:
                return
            frame: ServerFrame = event  # type: ignore[assignment]
            if not self._forward(frame):
                return
            if frame["type"] == "rewind":
                self._set(busy=self._conversation.busy)
            elif frame["type"] == "message":
                self._settle(frame["message"])
            elif frame["type"] == "chunk":
                if frame["kind"] == "status":
                    self._set(busy=frame.get("status") not in ("idle", "error"))
                current = self._conversation.get(frame["message_id"])
                waiter = self._waiters.get(frame["message_id"])
                if waiter is not None and current is not None:
                    waiter.update(current)

    def _settle(self, message: dict[str, Any]) -> None:
        """Bookkeeping when a message reaches a final status (lock held)."""
        if message.get("role") != "assistant" or message.get("status") not in FINAL_STATUSES:
            return
        self._set(busy=False)
        waiter = self._waiters.get(message.get("id", ""))
        if waiter is not None:
            waiter.update(self._conversation.get(message["id"]) or message)
        self._refresh_sessions()

    # ----- frames to the browser --------------------------------------------------------------

    def _forward(self, frame: ServerFrame) -> bool:
        """Apply a stream frame here and queue it for the panel (lock held); False: a replay."""
        forwarded = self._conversation.apply(frame)
        if forwarded is None:
            return False
        self._frames.push(forwarded)
        self._schedule_flush()
        return True

    def _schedule_flush(self) -> None:
        delay = self._frames.delay(time.monotonic())
        if delay is None:
            return
        if delay <= 0:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._client.call_later(delay, self._on_flush_timer)

    def _on_flush_timer(self) -> None:
        with self._lock:
            self._flush_scheduled = False
            self._schedule_flush()

    def _flush(self) -> None:
        """Send queued frames now (lock held), so a following message keeps its order."""
        frames = self._frames.take(time.monotonic())
        if frames:
            self.send(comm.frames(frames))

    # ----- synced traits (state.py) ------------------------------------------------------------

    def _set(self, **values: Any) -> None:
        """Set synced traits from any thread: on the kernel's thread, live to the panel first."""
        self._relay.set(**values)

    def _trait(self, name: str) -> Any:
        """The newest value of a synced trait (set, or waiting for the kernel's thread)."""
        return self._relay.get(name)

    def _send_reset(self) -> None:
        with self._lock:
            self._frames.take(time.monotonic())
            conversation = self._conversation
            messages = copy.deepcopy(conversation.messages)
            self.send(comm.reset(messages, conversation.has_more, conversation.seq))

    @traitlets.observe("auto_context")
    def _on_auto_context(self, change: dict[str, Any]) -> None:
        if not change["new"] and self._auto_chip is not None:
            self.remove_context(self._auto_chip)

    def _on_cell(self, record: CellRecord) -> None:
        """Show the last executed cell (or its error) as the auto-context chip."""
        if record.chat_cell or not self.auto_context:
            return
        chip = cell_attachment(record)
        with self._lock:
            kept = [c for c in self._trait("context") if c.get("id") != self._auto_chip]
            self._auto_chip = chip["id"]
            self._set(context=[*kept, chip])
