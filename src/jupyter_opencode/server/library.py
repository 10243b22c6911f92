"""Branches, rewind, annotations and templates: the session library over the chat service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..worker.adapter import OpencodeClient
from .service import ChatService, SessionBusy, UnknownSession
from .store.library import Library


class NotAUserMessage(Exception):
    """Only the user's own messages can be edited."""


class UnknownMessage(Exception):
    """The session has no message with this id."""


class TemplateError(ValueError):
    """A template that cannot be used for this prompt."""


class UnknownTemplate(TemplateError):
    """There is no template with this name."""


class UnknownAgent(ValueError):
    """opencode has no agent with this name."""


class UnknownCommand(LookupError):
    """opencode has no command with this name."""


def _text_of(message: dict[str, Any]) -> str:
    parts = message.get("parts") or []
    return "\n".join(str(p.get("text") or "") for p in parts if p.get("type") == "text")


class LibraryService:
    """Operations on whole conversations that keep opencode's copy of them in step."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self.library = Library(chat.store)

    @asynccontextmanager
    async def _exclusive(self, sid: str) -> AsyncIterator[None]:
        """Hold off prompts to a session while it is rewound or branched (busy: SessionBusy)."""
        if not await self.chat.free(sid):
            raise SessionBusy(sid)
        self.chat.reserved.add(sid)
        try:
            yield
        finally:
            self.chat.reserved.discard(sid)

    async def _position(self, sid: str, mid: str) -> int:
        position = await self.library.message_position(sid, mid)
        if position is None:
            raise UnknownMessage(mid)
        return position

    # prompts

    async def prompt(
        self,
        sid: str,
        text: str,
        model: str | None,
        context: list[dict[str, Any]],
        notebook_path: str | None = None,
        template: str | None = None,
        agent: str | None = None,
        command: tuple[str, str] | None = None,
        *,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Send a prompt; a template (first message only) sets model, agent and instructions.

        An ``agent`` named here answers this prompt and the session's next ones.
        """
        session = await self.chat.store.get_session(sid)
        system = None
        if agent is not None:
            await self._check_agent(agent)
        if template is not None:
            if session is not None and session["message_count"] > 0:
                raise TemplateError("a template applies only to the first message of a session")
            chosen = await self.library.template(template)
            if chosen is None:
                raise UnknownTemplate(f"no template named {template!r}")
            model = model or chosen["model"]
            agent, system = agent or chosen["agent"], chosen["instructions"]
        # Without one, the chat service uses the agent last chosen (or a template's).
        result = await self.chat.prompt(
            sid, text, model, context, notebook_path=notebook_path, agent=agent, system=system,
            command=command, attachments=attachments,
        )  # fmt: skip
        if template is not None:
            await self.library.set_settings(sid, {"template": template, "agent": agent})
        elif agent is not None:
            await self.library.set_settings(sid, {"agent": agent})
        return result

    # opencode's agents and commands

    async def agents(self) -> list[dict[str, str]]:
        """opencode's agents a user may pick (primary) or mention (subagent), not hidden ones."""
        client = await self.chat.supervisor.ready()
        return [
            {
                "name": str(a.get("name")),
                "description": str(a.get("description") or ""),
                "mode": str(a.get("mode") or "all"),
            }
            for a in await client.agents()
            if a.get("name") and not a.get("hidden")
        ]

    async def commands(self) -> list[dict[str, str]]:
        """opencode's commands: name, description and source (command, mcp or skill)."""
        client = await self.chat.supervisor.ready()
        return [
            {
                "name": str(c.get("name")),
                "description": str(c.get("description") or ""),
                "source": str(c.get("source") or "command"),
            }
            for c in await client.commands()
            if c.get("name")
        ]

    async def _check_agent(self, name: str) -> None:
        if name not in {a["name"] for a in await self.agents()}:
            raise UnknownAgent(f"opencode has no agent {name!r} (GET agents lists them)")

    async def run_command(
        self, sid: str, name: str, arguments: str, model: str | None, agent: str | None
    ) -> dict[str, Any]:
        """Run an opencode command in a session, as a prompt ``/name arguments``."""
        if name not in {c["name"] for c in await self.commands()}:
            raise UnknownCommand(f"opencode has no command {name!r} (GET commands lists them)")
        text = f"/{name} {arguments}".strip()
        return await self.prompt(sid, text, model, [], agent=agent, command=(name, arguments))

    # branches

    async def fork(self, sid: str, message_id: str | None) -> dict[str, Any]:
        """A new session with the messages up to and including ``message_id`` (default all)."""
        async with self._exclusive(sid):
            until = await self._position(sid, message_id) if message_id else None
            return await self._branch(sid, until)

    async def edit(self, sid: str, mid: str, text: str, model: str | None) -> dict[str, Any]:
        """Resend an edited user message in a new branch taken just before it."""
        async with self._exclusive(sid):
            message = await self.chat.store.get_message(mid)
            if message is None or message["session_id"] != sid:
                raise UnknownMessage(mid)
            if message["role"] != "user":
                raise NotAUserMessage(mid)
            position = await self._position(sid, mid)
            branch = await self._branch(sid, position - 1)
        # Through our own prompt: the branch keeps the agent its template chose.
        return await self.prompt(
            branch["id"], text, model, message["context"], attachments=message["attachments"]
        )

    async def _branch(self, sid: str, until: int | None) -> dict[str, Any]:
        parent = await self.chat.store.get_session(sid)
        if parent is None:
            raise UnknownSession(sid)
        ocid = None
        if parent["opencode_session_id"]:
            client = await self.chat.supervisor.ready()
            if await client.get_session(parent["opencode_session_id"]) is not None:
                cut = await self._opencode_cut(client, parent, until)
                ocid = await client.fork_session(parent["opencode_session_id"], cut)
        forked = await self.library.fork(sid, uuid.uuid4().hex, until)
        if forked is None:
            raise UnknownSession(sid)
        if ocid is not None:
            await self.chat.store.set_opencode_session(forked["id"], ocid)
            forked["opencode_session_id"] = ocid
        return forked

    async def _opencode_cut(
        self, client: OpencodeClient, session: dict[str, Any], until: int | None
    ) -> str | None:
        """The first message of opencode's copy that our messages up to ``until`` do not cover.

        Our user messages are matched in order to opencode's (whose text ends with ours: the
        attached context comes first); an answer spans every opencode message up to the next
        user message. None: everything is covered.
        """
        ocid = session["opencode_session_id"]
        messages = await client.messages(ocid, limit=None)
        info = await client.get_session(ocid) or {}
        reverted = (info.get("revert") or {}).get("messageID")
        ids = [str((m.get("info") or {}).get("id")) for m in messages]
        if reverted in ids:  # taken back already: removed at opencode's next prompt
            messages = messages[: ids.index(reverted)]
        ours = await self.library.user_texts(session["id"], until)
        last = -1
        for _, text in ours:
            for index in range(last + 1, len(messages)):
                message = messages[index]
                if (message.get("info") or {}).get("role") == "user" and _text_of(
                    message
                ).rstrip().endswith(text.strip()):
                    last = index
                    break
        covered = await self._last_role(session["id"], until)
        cut = last + 1
        if covered != "user":
            while cut < len(messages) and (messages[cut].get("info") or {}).get("role") != "user":
                cut += 1
        if cut < len(messages):
            return str(messages[cut]["info"]["id"])
        return reverted if reverted in ids else None

    async def _last_role(self, sid: str, until: int | None) -> str | None:
        """The role of the last of our messages up to ``until``."""
        async with self.chat.store.db.execute(
            "SELECT role FROM messages WHERE session_id = ? AND rowid <= ?"
            " ORDER BY rowid DESC LIMIT 1",
            (sid, until if until is not None else 2**62),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    # rewind

    async def rewind(self, sid: str, mid: str) -> tuple[list[str], list[str], list[str]]:
        """Remove a message and everything after it, here and in opencode.

        Returns the removed ids and those of the removed answers with notebook changes, then with
        file changes, to undo.
        """
        async with self._exclusive(sid):
            session = await self.chat.store.get_session(sid)
            if session is None:
                raise UnknownSession(sid)
            position = await self._position(sid, mid)
            ocid = session["opencode_session_id"]
            if ocid:
                client = await self.chat.supervisor.ready()
                if await client.get_session(ocid) is not None:
                    cut = await self._opencode_cut(client, session, position - 1)
                    if cut is not None:
                        await client.revert(ocid, cut)
            seq, frame, removed, changed, files = await self.library.truncate(sid, position)
        self.chat.deliver(sid, seq, frame)
        return removed, changed, files
