"""Chat sessions: prompts in, opencode's answers streamed to subscribers and persisted."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from xml.sax.saxutils import quoteattr

from ..tasks import BackgroundTasks
from ..worker.adapter import OpencodeClient, OpencodeError
from ..worker.supervisor import WorkerError, WorkerSupervisor
from .attachments import opencode_parts
from .events import EventHub
from .export.transcript import imported_transcript, needs_transcript
from .mentions import subagent_mentions
from .protocol import (
    ChunkFrame,
    MessageFrame,
    QuestionFrame,
    chunk_frame,
    message_frame,
    question_frame,
)
from .questions import AnsweredQuestions, QuestionAnswered, UnknownQuestion, check_answers, settled
from .store import SessionStore
from .store.context import save_context
from .turn import Chunk, Turn
from .writer import ChunkWriter

log = logging.getLogger(__name__)

Delta = tuple[str, str, str]


class Subscriber(Protocol):
    """A client receiving the frames of the sessions it subscribed to (a WebSocket)."""

    def deliver(self, session_id: str, seq: int, frame: str, delta: Delta | None = None) -> None:
        """Queue a frame, in seq order; a text delta (message, kind, text) may be merged."""


class PermissionHook(Protocol):
    """Takes over some permission prompts (the notebook tools': a diff, remembered answers)."""

    def claims(self, event: dict[str, Any]) -> bool:
        """Whether this ``permission.asked`` event is one of its own."""

    async def prepare(self, turn: Turn, event: dict[str, Any]) -> dict[str, Any] | None:
        """The event to show, or None when it answered the prompt itself."""

    async def answer(self, session_id: str, pid: str, reply: str) -> tuple[str, str | None]:
        """The reply (and message for the agent) to give opencode for the user's answer."""


class FileChanges(PermissionHook, Protocol):
    """Keeps the files an answer's edit tools change, to list and undo them."""

    async def settle(self, turn: Turn) -> list[dict[str, Any]]:
        """The parts listing the changes of an answer that ends."""


class SessionBusy(Exception):
    """The session is still answering its previous prompt."""


# What a prompt refused as busy is told, over REST and the stream socket alike.
BUSY_PROMPT = "the session is still answering the previous message"


class UnknownSession(Exception):
    """No session has this id."""


class SessionDeleted(Exception):
    """The session was deleted: its id is not used again."""

    reason = "session_deleted"

    def __str__(self) -> str:
        return f"session {self.args[0]} was deleted: start a new one"


class UnknownPermission(Exception):
    """The session has no pending permission request with this id."""


_CONTEXT_TAG = re.compile(r"<(/?context)", re.IGNORECASE)


def _defuse_tags(text: str) -> str:
    """Attached text with ``<context``/``</context`` written as ``<\\context``/``<\\/context``."""
    return _CONTEXT_TAG.sub(lambda m: "<\\" + m.group(1), text)


def _notebook_binding(session: dict[str, Any]) -> str:
    """What the agent is told about the notebook this conversation belongs to, if any."""
    path = session.get("notebook_path")
    if not path:
        return ""
    return (
        f"This conversation belongs to the notebook `{path}` (relative to the Jupyter root):"
        ' "this notebook", "the cell above" or "my last cell" mean that notebook. Read it'
        " with the notebook tools, using that path, before changing it."
    )


def _context_prompt(text: str, context: list[dict[str, Any]]) -> str:
    """The prompt with its attachments wrapped in tags their own text cannot open or close."""
    blocks = [
        f'<context kind="{item["kind"]}" label={quoteattr(item["label"])}>\n'
        f"{_defuse_tags(item['text'])}\n</context>"
        for item in context
    ]
    return "\n\n".join([*blocks, text])


class ChatService:
    """Owns every session's live state: turns in progress, subscribers, the chunk writer."""

    def __init__(
        self, store: SessionStore, supervisor: WorkerSupervisor, turn_timeout: float = 600.0
    ) -> None:
        self.store = store
        self.supervisor = supervisor
        self.turn_timeout = turn_timeout
        self._watchdog: asyncio.Task[None] | None = None
        self.writer = ChunkWriter(store)
        self.hub = EventHub(self)
        self.turns: dict[str, Turn] = {}
        self.reserved: set[str] = set()  # sessions being rewound or branched: no prompts
        self._by_opencode: dict[str, Turn] = {}
        self._subscribers: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._replaying: dict[tuple[int, str], list[tuple[int, str]]] = {}
        # Last seq sent in sessions whose last frames could not be stored: seqs never go back.
        self._seq_floor: dict[str, int] = {}
        self._tasks = BackgroundTasks(log)
        self.permissions: PermissionHook | None = None
        # Sees opencode's own file edits (their permission prompts) and lists them with answers.
        self.files: FileChanges | None = None
        self._limits: dict[str, int] | None = None  # each model's context window, per worker
        self.answered = AnsweredQuestions()
        # Told when an answer starts or ends (the server's activity, for idle cullers).
        self.on_activity: Callable[[], None] = lambda: None
        # Raises when the administrator's policy does not allow a model.
        self.check_model: Callable[[str | None], None] = lambda model: None
        supervisor.set_busy_check(lambda: bool(self.turns or self._subscribers))

    async def free(self, sid: str) -> bool:
        """Whether ``sid`` is free of answers and rewinds, once a finished answer is saved."""
        ending = self.turns.get(sid)
        if ending is not None and ending.finished:
            # Its idle status is out (clients free their send on it), its final message not saved.
            await ending.saved.wait()
        return sid not in self.turns and sid not in self.reserved

    # subscribers

    async def subscribe(self, sub: Subscriber, sid: str, after_seq: int) -> None:
        """Send ``sub`` every frame of ``sid`` after ``after_seq``, then live ones."""
        self.supervisor.warm_up()
        key = (id(sub), sid)
        self._replaying[key] = list(self.writer.pending(sid))
        self._subscribers[sid].add(sub)
        try:
            stored = await self.store.chunks_after(sid, after_seq)
        finally:
            backlog = self._replaying.pop(key, [])
        for seq, frame in sorted({*stored, *backlog}):
            sub.deliver(sid, seq, frame)

    def unsubscribe(self, sub: Subscriber, sid: str | None = None) -> None:
        """Stop sending ``sub`` frames of one session, or of all when ``sid`` is None."""
        for session_id in [sid] if sid else list(self._subscribers):
            subs = self._subscribers.get(session_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[session_id]

    def _publish(self, turn: Turn, frame: ChunkFrame | MessageFrame | QuestionFrame) -> None:
        self._deliver(turn, *self._record(turn, frame))

    def _record(
        self, turn: Turn, frame: ChunkFrame | MessageFrame | QuestionFrame
    ) -> tuple[int, str, Delta | None]:
        """Number a frame and queue it for the database."""
        seq = turn.take_seq()
        frame["seq"] = seq
        encoded = json.dumps(frame)
        delta = None
        kind: str = frame["type"]
        if frame["type"] == "chunk":
            kind = frame["kind"]
            if "delta" in frame:
                delta = (turn.message_id, kind, frame["delta"])
        self.writer.add(
            (turn.session_id, seq, turn.message_id, kind, encoded),
            turn.message_id,
            turn.joined_text,
        )
        return seq, encoded, delta

    def _deliver(self, turn: Turn, seq: int, encoded: str, delta: Delta | None) -> None:
        """Send a recorded frame to the session's subscribers."""
        self.deliver(turn.session_id, seq, encoded, delta)

    def deliver(self, sid: str, seq: int, encoded: str, delta: Delta | None = None) -> None:
        """Send a stored frame of a session to its subscribers."""
        for sub in self._subscribers.get(sid, ()):
            backlog = self._replaying.get((id(sub), sid))
            if backlog is not None:
                backlog.append((seq, encoded))
            else:
                sub.deliver(sid, seq, encoded, delta)

    def _emit(self, turn: Turn, chunks: list[Chunk]) -> None:
        for chunk in chunks:
            sid, mid = turn.session_id, turn.message_id
            if chunk["kind"] == "question":
                self._publish(turn, question_frame(sid, mid, chunk["question"]))
            else:
                self._publish(turn, chunk_frame(sid, mid, chunk))

    def _emit_message(self, turn: Turn, message: dict[str, Any]) -> None:
        self._publish(turn, self._message_frame(turn, message))

    def _message_frame(self, turn: Turn, message: dict[str, Any]) -> MessageFrame:
        return message_frame(turn.session_id, message)

    # prompts

    async def prompt(
        self,
        sid: str,
        text: str,
        model: str | None,
        context: list[dict[str, Any]],
        *,
        notebook_path: str | None = None,
        agent: str | None = None,
        system: str | None = None,
        command: tuple[str, str] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Save the prompt and a pending answer, start answering in the background.

        ``command`` (name, arguments): run that opencode command instead of sending the text.
        """
        if not await self.free(sid):
            raise SessionBusy(sid)
        self.check_model(model)
        now = time.time()
        user: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "session_id": sid,
            "role": "user",
            "status": "complete",
            "content": text,
            "error": None,
            "model": None,
            "created_at": now,
            "completed_at": now,
            "context": context,
            "attachments": attachments or [],
        }
        assistant: dict[str, Any] = {
            **user,
            "id": uuid.uuid4().hex,
            "role": "assistant",
            "status": "pending",
            "content": "",
            "model": model,
            "completed_at": None,
            "context": [],
            "attachments": [],
        }
        turn = Turn(
            session_id=sid, message_id=assistant["id"], model=model, next_seq=0,
            root=str(self.supervisor.cwd),
        )  # fmt: skip
        self.turns[sid] = turn
        try:
            # Checked while the turn holds the session, so a delete cannot slip in between.
            if await self.store.was_deleted(sid):
                raise SessionDeleted(sid)
            # Every prompt of a session started from a template goes to the template's agent.
            agent = agent or (await self.store.session_settings(sid)).get("agent")
            session = await self.store.start_turn(sid, user, assistant, model, notebook_path)
            turn.next_seq = max(await self.store.max_seq(sid), self._seq_floor.pop(sid, 0))
            history = (
                await imported_transcript(self.store, session, {user["id"], assistant["id"]})
                if needs_transcript(session)
                else ""
            )
        except BaseException:
            del self.turns[sid]
            raise
        user["parts"] = assistant["parts"] = []
        self._emit_message(turn, user)
        self._emit_message(turn, assistant)
        if self.supervisor.state != "ready":
            self._emit(turn, turn.status_chunk("starting", message="Starting the opencode worker"))
        prompt = history + _context_prompt(text, context)
        system = "\n\n".join(filter(None, [system, _notebook_binding(session)])) or None
        mentioned = text if "@" in text else ""
        self._tasks.spawn(
            self._answer(
                turn, session, prompt, agent, system, command, mentioned, attachments or []
            )
        )
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = self._tasks.spawn(self._watch_turns())
        self.on_activity()
        return {"session": session, "user_message": user, "assistant_message": assistant}

    async def _answer(
        self,
        turn: Turn,
        session: dict[str, Any],
        prompt: str,
        agent: str | None = None,
        system: str | None = None,
        command: tuple[str, str] | None = None,
        mentioned: str = "",
        attachments: Sequence[dict[str, Any]] = (),
    ) -> None:
        try:
            client = await self.supervisor.ready(prompt=True)
            # The models' limits are read beside the answer (opencode's first prompt waits for
            # the same providers anyway); the session is made while the event stream opens.
            self._tasks.spawn(self._read_limits(turn, client))
            opening = asyncio.wait_for(self.hub.connected.wait(), 30.0)
            ocid, _ = await asyncio.gather(self._opencode_session(client, session), opening)
            if turn.finished:
                return
            turn.opencode_session_id = ocid
            self._by_opencode[ocid] = turn
            if turn.aborted:
                await self.finish(turn, "aborted")
                return
            self._emit(turn, turn.status_chunk("thinking"))
            turn.prompting()
            if command is not None:
                # opencode answers a command's request only once its answer has ended.
                self._tasks.spawn(self._run_command(turn, client, ocid, command, agent))
            else:
                subagents = subagent_mentions(mentioned, await client.agents()) if mentioned else []
                root = str(self.supervisor.cwd)
                files = await asyncio.to_thread(opencode_parts, attachments, root)
                await client.prompt(ocid, prompt, turn.model, agent, system, subagents, files)
        except (WorkerError, OpencodeError) as e:
            await self.finish(turn, "error", str(e))
        except asyncio.TimeoutError:
            await self.finish(turn, "error", "opencode's event stream did not open")
        except Exception as e:
            log.error("answering in session %s failed", turn.session_id, exc_info=True)
            await self.finish(turn, "error", f"internal error: {e}")

    async def _read_limits(self, turn: Turn, client: OpencodeClient) -> None:
        try:
            turn.limits = await self.context_limits(client)
        except OpencodeError as e:
            log.warning("reading the models' context limits failed: %s", e)

    async def context_limits(self, client: OpencodeClient) -> dict[str, int]:
        """Each model's context window in tokens (as opencode's providers say), read once."""
        if self._limits is None:
            known = await client.providers()
            self._limits = {
                f"{p['id']}/{mid}": int((m.get("limit") or {}).get("context") or 0)
                for p in known.get("providers") or []
                for mid, m in (p.get("models") or {}).items()
            }
        return self._limits

    async def _run_command(
        self,
        turn: Turn,
        client: OpencodeClient,
        ocid: str,
        command: tuple[str, str],
        agent: str | None,
    ) -> None:
        try:
            await client.command(ocid, *command, model=turn.model, agent=agent)
        except OpencodeError as e:
            await self.finish(turn, "error", str(e))

    async def _opencode_session(self, client: OpencodeClient, session: dict[str, Any]) -> str:
        ocid = session.get("opencode_session_id")
        if ocid and await client.get_session(ocid) is not None:
            return str(ocid)
        parent_id = session["parent_id"]
        parent = await self.store.get_session(parent_id) if parent_id else None
        parent_ocid = parent and parent.get("opencode_session_id")
        if parent_ocid and await client.get_session(parent_ocid) is not None:
            # A fork continues from a copy of the parent's history in opencode too.
            ocid = await client.fork_session(parent_ocid)
        else:
            ocid = await client.create_session(session.get("title") or None)
        await self.store.set_opencode_session(session["id"], ocid)
        return ocid

    async def finish(self, turn: Turn, status: str, error: str | None = None) -> None:
        """End a turn: persist its chunks and final message, tell subscribers; never stays busy."""
        if turn.finished:
            return
        turn.finished = True
        recorded: tuple[int, str, Delta | None] | None = None
        try:
            recorded = await self._save_final(turn, status, error)
        except Exception as e:
            # The answer cannot be saved (e.g. database locked or disk full): it still ends, as an
            # error the user sees, so the session is free for the next prompt.
            log.error("saving the answer in session %s failed", turn.session_id, exc_info=True)
            recorded = await self._save_failed(turn, f"the answer could not be saved: {e}")
        finally:
            self.turns.pop(turn.session_id, None)
            if turn.opencode_session_id:
                self._by_opencode.pop(turn.opencode_session_id, None)
            turn.saved.set()
        if recorded is not None:
            self._deliver(turn, *recorded)
        self.supervisor.touch()
        self.on_activity()

    async def _save_final(
        self, turn: Turn, status: str, error: str | None
    ) -> tuple[int, str, Delta | None]:
        message = turn.final_message(status, error)
        if self.files is not None:
            message["parts"] += await self.files.settle(turn)
        self._emit(turn, turn.status_chunk("error" if status == "error" else "idle"))
        stored = await self.store.get_message(turn.message_id)
        full = {**(stored or {}), **message, "model": turn.model}
        # Saved first, announced after: a client that sees the final message finds it stored.
        recorded = self._record(turn, self._message_frame(turn, full))
        await self.writer.flush()
        await self.store.finish_message(message)
        if turn.context_tokens:
            await save_context(
                self.store, turn.session_id, turn.context_tokens, turn.usage()["limit"]
            )
        return recorded

    async def _save_failed(self, turn: Turn, reason: str) -> tuple[int, str, Delta | None]:
        """The final error frame of an answer whose normal ending could not be saved."""
        message = {
            **turn.final_message("error", reason),
            "model": turn.model,
            "role": "assistant",
            "created_at": turn.created_at,
            "context": [],
        }
        try:
            await self.store.finish_message(message)
        except Exception:
            log.error("marking the answer in session %s failed", turn.session_id, exc_info=True)
        frame = self._message_frame(turn, message)
        frame["seq"] = seq = turn.take_seq()
        self._seq_floor[turn.session_id] = turn.next_seq
        return seq, json.dumps(frame), None

    async def abort(self, sid: str) -> bool:
        """Stop the answer in progress; False when there is none."""
        turn = self.turns.get(sid)
        if turn is None:
            return False
        turn.aborted = True
        client = self.supervisor.client
        if turn.opencode_session_id and client is not None:
            try:
                await client.abort(turn.opencode_session_id)
            except OpencodeError:
                log.warning("opencode did not take the abort of %s", sid, exc_info=True)
                await self.finish(turn, "aborted")
        elif turn.opencode_session_id is None:
            await self.finish(turn, "aborted")
        return True

    async def reply_permission(self, sid: str, permission_id: str, reply: str) -> None:
        """Answer a permission request of the answer in progress."""
        turn = self.turns.get(sid)
        client = self.supervisor.client
        if turn is None or permission_id not in turn.permissions or client is None:
            raise UnknownPermission(permission_id)
        message = None
        for hook in self._hooks():
            reply, said = await hook.answer(sid, permission_id, reply)
            message = message or said
        await client.reply_permission(permission_id, reply, message)
        turn.permissions.discard(permission_id)

    def with_live_parts(self, sid: str, messages: list[dict[str, Any]]) -> None:
        """Give the answer in progress in a page its tools and questions seen so far (stored
        only when it ends), so a client that opens it now can answer a waiting question."""
        turn = self.turns.get(sid)
        if turn is None:
            return
        live = [p for p in turn.parts() if p["kind"] in ("tool", "question")]
        for message in messages:
            if message["id"] == turn.message_id and not message.get("parts"):
                message["parts"] = live

    async def answer_question(
        self, sid: str, question_id: str, answers: list[list[str]] | None
    ) -> None:
        """Answer a question of the answer in progress (None: dismiss it)."""
        turn = self.turns.get(sid)
        client = self.supervisor.client
        part = turn.questions.get(question_id) if turn is not None else None
        if question_id in self.answered or (part is not None and settled(part)):
            raise QuestionAnswered(question_id)
        if turn is None or part is None or client is None:
            raise UnknownQuestion(question_id)
        if answers is not None:
            answers = check_answers(part, answers)
        self.answered.add(question_id)
        try:
            await client.answer_question(question_id, answers)
        except OpencodeError:
            self.answered.discard(question_id)
            raise
        self._emit(turn, turn.question_settled(question_id, answers))

    # opencode events

    def on_event(self, event: dict[str, Any]) -> None:
        """Route one opencode event to the turn of its session."""
        props = event.get("properties") or {}
        ocid = (
            props.get("sessionID")
            or (props.get("info") or {}).get("sessionID")
            or (props.get("part") or {}).get("sessionID")
        )
        turn = self._by_opencode.get(ocid) if isinstance(ocid, str) else None
        if turn is None or turn.finished or turn.abandoned:
            return
        hook = next((h for h in self._hooks() if h.claims(event)), None)
        if hook is not None:
            self._tasks.spawn(self._ask_permission(hook, turn, event))
            return
        try:
            chunks, ended = turn.handle(event)
            self._emit(turn, chunks)
        except Exception as e:
            # A surprise in one event ends that one answer, never the event stream of all.
            log.error("event %r broke the answer in %s", event, turn.session_id, exc_info=True)
            reason = f"internal error handling opencode's events: {e}"
            self._tasks.spawn(self._end_broken(turn, reason))
            return
        if ended:
            self._tasks.spawn(self.finish(turn, turn.final_status()))

    def _hooks(self) -> list[PermissionHook]:
        return [h for h in (self.permissions, self.files) if h is not None]

    async def _end_broken(self, turn: Turn, reason: str) -> None:
        """End an answer we can no longer follow, once opencode has stopped working on it.

        The abort goes first: sent after the session is free, it could stop the next prompt.
        """
        turn.abandoned = True
        client = self.supervisor.client
        if turn.opencode_session_id and client is not None:
            try:  # bounded: a frozen worker must not hold the answer open
                await client.abort(turn.opencode_session_id, timeout=5.0)
            except OpencodeError:
                log.warning("opencode did not take the abort of %s", turn.session_id, exc_info=True)
        await self.finish(turn, "error", reason)

    async def _watch_turns(self) -> None:
        """End answers that heard nothing from opencode for ``turn_timeout`` seconds."""
        interval = max(min(self.turn_timeout / 4, 5.0), 0.05)
        while self.turns:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for turn in list(self.turns.values()):
                # Waiting for the user's permission or answer is not opencode being silent.
                if turn.waiting or now - turn.heard_at < self.turn_timeout:
                    continue
                reason = f"no word from opencode for {self.turn_timeout:.0f} s"
                await self._end_broken(turn, reason)

    async def _ask_permission(
        self, hook: PermissionHook, turn: Turn, event: dict[str, Any]
    ) -> None:
        prepared = await hook.prepare(turn, event)
        if prepared is not None and not turn.finished:
            self._emit(turn, turn.handle(prepared)[0])

    async def on_gap(self, client: OpencodeClient) -> None:
        """After a gap in the event stream, re-read the answers in progress from opencode."""
        for turn in list(self._by_opencode.values()):
            try:
                messages = await client.messages(str(turn.opencode_session_id), limit=20)
            except OpencodeError:
                log.warning("re-reading session %s failed", turn.session_id, exc_info=True)
                continue
            try:
                chunks, ended = turn.resync(messages)
                self._emit(turn, chunks)
            except Exception as e:
                log.error("catching up session %s failed", turn.session_id, exc_info=True)
                await self._end_broken(turn, f"internal error catching up with opencode: {e}")
                continue
            if ended:
                await self.finish(turn, turn.final_status())

    def on_worker_ready(self, client: OpencodeClient) -> None:
        """Listen to the new worker's events."""
        self._limits = None
        self.hub.connect(client)

    async def announce(self, message: dict[str, Any]) -> None:
        """Send a stored message made outside an answer (a compaction) to every view, in order."""
        sid = message["session_id"]
        seq = max(await self.store.max_seq(sid), self._seq_floor.pop(sid, 0))
        carrier = Turn(session_id=sid, message_id=message["id"], model=None, next_seq=seq)
        self._emit_message(carrier, message)
        await self.writer.flush()

    def on_worker_lost(self, reason: str) -> None:
        """The worker died: every answer in progress ends interrupted, keeping its text."""
        self.hub.disconnect()
        for turn in [t for t in self.turns.values() if t.opencode_session_id]:
            self._tasks.spawn(self.finish(turn, "interrupted", reason))

    async def close(self) -> None:
        """At server shutdown: answers in progress end interrupted (text kept), then stop."""
        self.hub.disconnect()
        await self._tasks.cancel()
        for turn in list(self.turns.values()):
            await self.finish(turn, "interrupted", "the Jupyter server was stopped")
        await self.writer.flush()
