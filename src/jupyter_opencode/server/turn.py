"""One answer in progress: opencode events in, our chunk payloads out, with the text kept by us."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath
from typing import Any

from .questions import WAITING, question_part, settled

Chunk = dict[str, Any]

_TOOL_FIELDS = ("title", "input", "output", "error")
# Tools whose title, and permissions whose patterns, are paths relative to opencode's worktree.
_PATH_TOOLS = frozenset(("read", "edit", "write", "multiedit", "patch"))
_PATH_PERMISSIONS = frozenset(("read", "edit"))
_TODO_FIELDS = ("content", "status", "priority")


def shown_path(path: str, root: str | PurePath) -> str:
    """A path as the user sees it: relative to the Jupyter root when under it.

    ``path`` is absolute, or relative to ``/`` (opencode's worktree outside a git repository).
    """
    try:
        return PurePosixPath("/", path).relative_to(root).as_posix()
    except ValueError:
        return path


def plan_items(todos: object) -> list[dict[str, str]]:
    """opencode's todo list as we keep it: each item's content, status and priority."""
    items = todos if isinstance(todos, list) else []
    return [
        {key: str(item.get(key) or "") for key in _TODO_FIELDS}
        for item in items
        if isinstance(item, dict)
    ]


@dataclass
class Turn:
    """The assistant message being answered in one session, and what has streamed into it."""

    session_id: str
    message_id: str
    model: str | None
    next_seq: int
    opencode_session_id: str | None = None
    status: str = "pending"
    error: str | None = None
    aborted: bool = False
    # Ended on our side: opencode's events for it (its abort) are no longer followed.
    abandoned: bool = False
    finished: bool = False
    # Set once the ended answer is saved and the session is free for the next prompt.
    saved: asyncio.Event = field(default_factory=asyncio.Event)
    prompted_ms: float = float("inf")
    heard_at: float = field(default_factory=time.monotonic)
    created_at: float = field(default_factory=time.time)
    # The Jupyter root (the worker's working directory): paths are shown relative to it.
    root: str | None = None
    _text: list[str] = field(default_factory=list)
    _joined: str | None = ""
    tokens: int = 0
    cost: float = 0.0
    reasoning: dict[str, str] = field(default_factory=dict)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: set[str] = field(default_factory=set)
    # The agent's plan (its todo list) as last written during this answer.
    todos: list[dict[str, str]] | None = None
    # The tokens of the context window as of the latest step, and the model's limits (model ->
    # context tokens; 0: unknown), filled in by the service.
    context_tokens: int = 0
    limits: dict[str, int] = field(default_factory=dict)
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _user_ids: set[str] = field(default_factory=set)
    _assistant_ids: set[str] = field(default_factory=set)
    _part_kinds: dict[str, str] = field(default_factory=dict)
    _part_text: dict[str, int] = field(default_factory=dict)
    # Parts open during a gap in the event stream: their deltas are incomplete, so they wait
    # for the part's full text, which opencode sends when the part ends.
    _stale: set[str] = field(default_factory=set)
    _last_status: str = ""
    _usage: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The answer's text so far (joined lazily: appending stays linear)."""
        if self._joined is None:
            self._joined = "".join(self._text)
        return self._joined

    def joined_text(self) -> str:
        """The answer's text so far, as a callable for the chunk writer."""
        return self.text

    def take_seq(self) -> int:
        """The next chunk seq of this session."""
        self.next_seq += 1
        return self.next_seq

    def parts(self) -> list[dict[str, Any]]:
        """Reasoning and tool parts, as stored with the final message."""
        reasoning = [{"kind": "reasoning", "text": t} for t in self.reasoning.values() if t]
        plan = [] if self.todos is None else [{"kind": "todo", "todos": self.todos}]
        usage = [{"kind": "usage", **self.usage()}] if self.context_tokens else []
        tools = [{"kind": "tool", **tool} for tool in self.tools.values()]
        return [*plan, *reasoning, *tools, *self.questions.values(), *usage]

    @property
    def waiting(self) -> bool:
        """Whether the answer waits for the user (a permission or a question), not opencode."""
        return bool(self.permissions) or any(not settled(q) for q in self.questions.values())

    def status_chunk(self, status: str, **extra: Any) -> list[Chunk]:
        """A status chunk, unless it repeats the last one."""
        key = f"{status}:{extra}"
        if key == self._last_status:
            return []
        self._last_status = key
        return [{"kind": "status", "status": status, **extra}]

    def handle(self, event: dict[str, Any]) -> tuple[list[Chunk], bool]:
        """Translate one opencode event; also say whether the answer has ended."""
        kind = event.get("type", "")
        props = event.get("properties") or {}
        self.heard_at = time.monotonic()
        if kind == "message.updated":
            return self._message_updated(props.get("info") or {}), False
        if kind == "message.part.updated":
            return self._part_updated(props.get("part") or {}), False
        if kind == "message.part.delta":
            return self._part_delta(props), False
        if kind == "session.status":
            return self._session_status(props.get("status") or {}), False
        if kind == "session.error":
            self._record_error(props.get("error") or {})
            return [], False
        if kind == "permission.asked":
            return self._permission_asked(props), False
        if kind == "permission.replied":
            self.permissions.discard(str(props.get("requestID") or props.get("permissionID")))
            return self.status_chunk("thinking"), False
        if kind == "todo.updated":
            self.todos = plan_items(props.get("todos"))
            return [{"kind": "todo", "todos": self.todos}], False
        if kind == "question.asked":
            return self._question_asked(props), False
        if kind in ("question.replied", "question.rejected"):
            return self.question_settled(str(props.get("requestID")), props.get("answers")), False
        if kind == "session.idle":
            return [], True
        return [], False

    def prompting(self) -> None:
        """Note the time the prompt is sent: older messages (e.g. a fork's copies) are not ours."""
        self.prompted_ms = time.time() * 1000
        self.heard_at = time.monotonic()

    def _message_updated(self, info: dict[str, Any]) -> list[Chunk]:
        created = (info.get("time") or {}).get("created") or 0
        if info.get("role") == "user" and created >= self.prompted_ms - 5:
            self._user_ids.add(str(info.get("id")))
        if info.get("role") != "assistant" or info.get("parentID") not in self._user_ids:
            return []
        if info.get("summary"):
            return []  # opencode compacting on its own mid-answer: its summary is not the answer
        self._assistant_ids.add(str(info.get("id")))
        if info.get("providerID") and info.get("modelID"):
            self.model = f"{info['providerID']}/{info['modelID']}"
        if info.get("error"):
            self._record_error(info["error"])
        tokens = info.get("tokens") or {}
        if tokens or info.get("cost"):
            # The message info holds each step's totals; steps of one answer add up.
            usage = int(tokens.get("input") or 0) + int(tokens.get("output") or 0)
            self._usage[str(info.get("id"))] = (usage, float(info.get("cost") or 0))
            self.tokens = sum(t for t, _ in self._usage.values())
            self.cost = sum(c for _, c in self._usage.values())
            return self._context(tokens)
        return []

    def _context(self, tokens: dict[str, Any]) -> list[Chunk]:
        """A usage chunk when the context window of the latest step changed."""
        cache = tokens.get("cache") or {}
        size = sum(
            int(n or 0)
            for n in (tokens.get("input"), tokens.get("output"), tokens.get("reasoning"),
                      cache.get("read"), cache.get("write"))
        )  # fmt: skip
        if not size or size == self.context_tokens:
            return []
        self.context_tokens = size
        return [{"kind": "usage", "usage": self.usage()}]

    def usage(self) -> dict[str, Any]:
        """The context window as clients show it: tokens, the model's limit, the answer's cost."""
        limit = self.limits.get(self.model or "", 0)
        return {"tokens": self.context_tokens, "limit": limit, "cost": self.cost}

    def _record_error(self, error: dict[str, Any]) -> None:
        name = str(error.get("name") or "Error")
        if name == "MessageAbortedError":
            self.aborted = True
            return
        data = error.get("data") or {}
        self.error = str(data.get("message") or name)

    def _part_updated(self, part: dict[str, Any]) -> list[Chunk]:
        if part.get("messageID") not in self._assistant_ids:
            return []
        part_type = part.get("type")
        if part_type in ("text", "reasoning"):
            pid = str(part["id"])
            self._part_kinds[pid] = str(part_type)
            full = str(part.get("text") or "")
            seen = self._part_text.get(pid, 0)
            if (part.get("time") or {}).get("end"):
                self._stale.discard(pid)
            return self._append(pid, full[seen:]) if len(full) > seen else []
        if part_type == "tool":
            return self._tool(part)
        return []

    def _part_delta(self, props: dict[str, Any]) -> list[Chunk]:
        if props.get("field") != "text" or props.get("messageID") not in self._assistant_ids:
            return []
        if str(props.get("partID")) in self._stale:
            return []
        return self._append(str(props.get("partID")), str(props.get("delta") or ""))

    def _append(self, pid: str, delta: str) -> list[Chunk]:
        if not delta:
            return []
        kind = self._part_kinds.get(pid, "text")
        first = pid not in self._part_text
        self._part_text[pid] = self._part_text.get(pid, 0) + len(delta)
        chunks = self.status_chunk("writing" if kind == "text" else "thinking")
        if kind == "reasoning":
            self.reasoning[pid] = self.reasoning.get(pid, "") + delta
        else:
            if first and self._text:
                delta = "\n\n" + delta
            self._text.append(delta)
            self._joined = None
        self.status = "streaming"
        return [*chunks, {"kind": kind, "delta": delta}]

    def _tool(self, part: dict[str, Any]) -> list[Chunk]:
        if part.get("tool") == "question":
            return []  # shown as the question itself
        state = part.get("state") or {}
        tool = {
            "call_id": str(part.get("callID") or part.get("id")),
            "name": str(part.get("tool") or "tool"),
            "status": str(state.get("status") or "pending"),
            **{key: state[key] for key in _TOOL_FIELDS if state.get(key) is not None},
        }
        if self.root and tool["name"] in _PATH_TOOLS and isinstance(tool.get("title"), str):
            tool["title"] = shown_path(tool["title"], self.root)
        if self.tools.get(tool["call_id"]) == tool:
            return []
        self.tools[tool["call_id"]] = tool
        self.status = "streaming"
        chunks: list[Chunk] = [{"kind": "tool", "tool": tool}]
        if tool["status"] == "running":
            chunks += self.status_chunk("tool", message=f"Running tool: {tool['name']}")
        return chunks

    def _session_status(self, status: dict[str, Any]) -> list[Chunk]:
        if status.get("type") == "busy":
            return self.status_chunk("thinking")
        if status.get("type") == "retry":
            return self.status_chunk(
                "retrying", attempt=int(status.get("attempt") or 0), message=status.get("message")
            )
        return []

    def _permission_asked(self, props: dict[str, Any]) -> list[Chunk]:
        pid = str(props.get("id"))
        self.permissions.add(pid)
        patterns = [str(p) for p in props.get("patterns") or []]
        if self.root and props.get("permission") in _PATH_PERMISSIONS:
            patterns = [shown_path(p, self.root) for p in patterns]
        permission = {
            "id": pid,
            "permission": props.get("permission"),
            "patterns": patterns,
            "metadata": props.get("metadata") or {},
        }
        if props.get("notebook"):
            permission["notebook"] = props["notebook"]  # the change a notebook tool asks for
        return [
            {"kind": "permission", "permission": permission},
            *self.status_chunk("permission", message="Waiting for your permission"),
        ]

    def _question_asked(self, props: dict[str, Any]) -> list[Chunk]:
        part = question_part(props)
        self.questions[part["id"]] = part
        return [
            {"kind": "question", "question": part},
            *self.status_chunk("question", message=WAITING),
        ]

    def question_settled(self, question_id: str, answers: Any) -> list[Chunk]:
        """A question answered (``answers``: a list per question) or dismissed (None)."""
        part = self.questions.get(question_id)
        if part is None or settled(part):
            return []
        if isinstance(answers, list):
            part["answers"] = [[str(a) for a in chosen] for chosen in answers]
        else:
            part["rejected"] = True
        return [{"kind": "question", "question": part}, *self.status_chunk("thinking")]

    def final_status(self) -> str:
        """The status the message ends with when opencode says the answer is over."""
        if self.aborted:
            return "aborted"
        return "error" if self.error else "complete"

    def final_message(self, status: str, error: str | None = None) -> dict[str, Any]:
        """The fields of the stored message once it ends."""
        return {
            "id": self.message_id,
            "session_id": self.session_id,
            "status": status,
            "content": self.text,
            "error": error if error is not None else self.error,
            "parts": self.parts(),
            "tokens": self.tokens,
            "cost": self.cost,
            "model": self.model,
            "completed_at": time.time(),
        }

    def resync(self, messages: list[dict[str, Any]]) -> tuple[list[Chunk], bool]:
        """Catch up from opencode's stored messages after a gap in the event stream."""
        chunks: list[Chunk] = []
        ended = False
        self.heard_at = time.monotonic()
        for message in messages:
            info = message.get("info") or {}
            chunks += self._message_updated(info)
            if str(info.get("id")) not in self._assistant_ids:
                continue
            completed = bool((info.get("time") or {}).get("completed"))
            for part in message.get("parts") or []:
                chunks += self._part_updated(part)
                open_text = part.get("type") in ("text", "reasoning") and not (
                    (part.get("time") or {}).get("end")
                )
                if open_text and not completed:
                    self._stale.add(str(part["id"]))
            ended = completed and info.get("finish") != "tool-calls"
        return chunks, ended
