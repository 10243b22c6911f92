"""Consent for notebook changes, through opencode's own permission prompts.

The worker's config makes opencode ask permission for every changing ``jupyter_*`` tool, so
each call arrives as a ``permission.asked`` event carrying the opencode session and the tool
call id (checked with opencode 1.18.33: its MCP tools ask with ``permission`` set to the tool
name, after the running tool part with the call's input was sent). That ties the call to the
chat session and answer that made it, with no help from the MCP server, and reuses the prompt
every client already shows: here it only gains the per-cell diff. "Always" is kept by us per
session and kind of change (opencode's own "always" would cover every session), and when the
approved call comes back over MCP it is matched by its arguments: a change nobody approved is
refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..tasks import BackgroundTasks
from .cells import ToolInputError
from .live import LiveError
from .records import NotebookRecords

if TYPE_CHECKING:
    from ..server.turn import Turn

log = logging.getLogger(__name__)

PREFIX = "jupyter_"
CHANGE_TOOLS = ("insert_cell", "edit_cell", "delete_cell", "move_cell", "run_cell")
_MATCHED = {
    "insert_cell": ("path", "index", "source", "cell_type"),
    "edit_cell": ("path", "cell", "source"),
    "delete_cell": ("path", "cell"),
    "move_cell": ("path", "cell", "index"),
    "run_cell": ("path", "cell"),
}
_DEFAULTS = {"cell_type": "code"}
REJECTED = "The user rejected this change: the notebook was not changed."

Reply = Callable[[str, str, "str | None"], Awaitable[None]]
Preview = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolCall:
    """An approved (or pending) call of a changing tool, and the answer that made it."""

    session_id: str
    message_id: str
    tool: str
    args: dict[str, Any]

    def key(self) -> str:
        """What identifies the call when it comes back over MCP: its tool and arguments."""
        return call_key(self.tool, self.args)


def call_key(tool: str, args: dict[str, Any]) -> str:
    """The tool and its meaningful arguments, with defaults filled in, as one string."""
    values = [str(args.get(name, _DEFAULTS.get(name))) for name in _MATCHED.get(tool, ())]
    if values:
        values[0] = values[0].lstrip("/")
    return json.dumps([tool, values])


class Approvals:
    """Pending notebook permission prompts, "Always" answers, and the calls approved so far."""

    def __init__(
        self, records: NotebookRecords, preview: Preview, reply: Reply, timeout: float
    ) -> None:
        self.records = records
        self._preview = preview
        self._reply = reply
        self.timeout = timeout
        self._pending: dict[str, ToolCall] = {}
        self._approved: list[ToolCall] = []
        self._tasks = BackgroundTasks(log)

    @staticmethod
    def claims(event: dict[str, Any]) -> bool:
        """Whether an opencode event is a permission prompt for a changing notebook tool."""
        props = event.get("properties") or {}
        permission = str(props.get("permission") or "")
        return (
            event.get("type") == "permission.asked"
            and permission.startswith(PREFIX)
            and permission[len(PREFIX) :] in CHANGE_TOOLS
        )

    async def prepare(self, turn: Turn, event: dict[str, Any]) -> dict[str, Any] | None:
        """The prompt with its diff; None when it was answered here ("Always", or impossible)."""
        props = event.get("properties") or {}
        pid = str(props.get("id"))
        call_id = str((props.get("tool") or {}).get("callID"))
        args = dict((turn.tools.get(call_id) or {}).get("input") or {})
        call = ToolCall(
            turn.session_id, turn.message_id, str(props["permission"])[len(PREFIX) :], args
        )
        if await self.records.always(call.session_id, call.tool):
            self._approved.append(call)
            await self._reply(pid, "once", None)
            return None
        try:
            preview = await self._preview(call.tool, args)
        except ToolInputError as e:
            await self._reply(pid, "reject", f"This change cannot be made: {e}")
            return None
        except LiveError as e:
            preview = {"tool": call.tool, "path": args.get("path"), "error": str(e)}
        self._pending[pid] = call
        if self.timeout > 0:
            self._tasks.spawn(self._expire(pid))
        return {**event, "properties": {**props, "notebook": preview}}

    async def _expire(self, pid: str) -> None:
        await asyncio.sleep(self.timeout)
        if self._pending.pop(pid, None) is not None:
            wait = f"{self.timeout / 60:g} minutes" if self.timeout >= 60 else f"{self.timeout:g} s"
            await self._reply(
                pid, "reject", f"Nobody approved this change within {wait}: it was not made."
            )

    async def answer(self, session_id: str, pid: str, reply: str) -> tuple[str, str | None]:
        """What to tell opencode for the user's answer: (reply, message for the agent)."""
        call = self._pending.pop(pid, None)
        if call is None:
            return reply, None
        if reply == "always":
            await self.records.remember_always(session_id, call.tool)
            reply = "once"
        if reply == "once":
            self._approved.append(call)
            return "once", None
        return "reject", REJECTED

    def take(self, tool: str, args: dict[str, Any]) -> ToolCall | None:
        """The approved call these arguments belong to (used up), or None: not approved."""
        key = call_key(tool, args)
        for index, call in enumerate(self._approved):
            if call.key() == key:
                return self._approved.pop(index)
        return None

    async def close(self) -> None:
        """Stop the approval timers."""
        await self._tasks.cancel()
