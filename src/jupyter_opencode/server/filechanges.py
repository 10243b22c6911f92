"""Files changed by opencode's own edit tools (edit, write, patch), listed per answer and undone
exactly, whatever opencode's snapshot setting.

Every such tool asks the ``edit`` permission before it writes, naming its files: the files are
read then, before any answer goes back to opencode, so each is kept as it was before the answer
first touched it. When the answer ends, what it left is read too; an undo restores a file only
while it is still as the answer left it. A file changed by a shell command is not seen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..worker.environment import ProviderChoice
from .store.files import FileChangeRecords, FileRecord
from .turn import shown_path

if TYPE_CHECKING:
    from .service import ChatService
    from .turn import Turn

# Larger files are not kept (nor listed): their undo would hold them twice in the database.
MAX_TRACKED_BYTES = 8 * 1024 * 1024
# A diff shown with the answer stops here; the files route gives it whole.
MAX_SHOWN_DIFF = 20_000
UNTRACKED_NOTE = "Changes made by shell commands are not tracked."
_SHELL_TOOLS = frozenset(("bash",))
# The worker's edit rules when the user allows every edit (notebooks are never the edit tools').
EVERY_EDIT_ALLOWED = {"*": "allow", "*.ipynb": "deny"}


def read_state(path: str) -> bytes | None:
    """A file's content, or None when there is no such file."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_TRACKED_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def restore(path: str, data: bytes | None) -> None:
    """Put a file back: remove it (None) or write its old content."""
    if data is None:
        Path(path).unlink(missing_ok=True)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _lines(data: bytes | None) -> list[str]:
    return [] if data is None else data.decode(errors="replace").splitlines(keepends=True)


def describe(record: FileRecord, shown: str, limit: int | None = None) -> dict[str, Any]:
    """A change as clients see it: path, op, lines added and removed, the unified diff."""
    op = "added" if record.before is None else "deleted" if record.after is None else "modified"
    if b"\0" in (record.before or b"") or b"\0" in (record.after or b""):
        return {"path": shown, "op": op, "additions": 0, "deletions": 0, "diff": "Binary file"}
    fromfile = "/dev/null" if record.before is None else f"a/{shown}"
    tofile = "/dev/null" if record.after is None else f"b/{shown}"
    lines = list(
        difflib.unified_diff(_lines(record.before), _lines(record.after), fromfile, tofile)
    )
    body = lines[2:]
    diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    change = {
        "path": shown,
        "op": op,
        "additions": sum(1 for line in body if line.startswith("+")),
        "deletions": sum(1 for line in body if line.startswith("-")),
        "diff": diff,
    }
    if limit is not None and len(diff) > limit:
        change["diff"] = diff[:limit] + "\n[diff truncated]\n"
    return change


def _edit_paths(metadata: dict[str, Any]) -> list[str]:
    """The files an ``edit`` permission prompt names (edit and write: one; patch: several)."""
    paths = [metadata.get("filepath")]
    for item in metadata.get("files") or []:
        if isinstance(item, dict):
            paths += [item.get("filePath"), item.get("movePath")]
    return [str(p) for p in paths if isinstance(p, str) and os.path.isabs(p)]


class FileChangeTracker:
    """Keeps each answer's edited files before and after; lists and undoes them."""

    def __init__(self, service: ChatService, records: FileChangeRecords, root: Path) -> None:
        self.service = service
        self.records = records
        self.root = root
        # Sessions whose user answered "Always" to an edit: opencode is told "once", each time,
        # so that it keeps asking and every file is read before it changes.
        self._always: set[str] = set()
        self._pending: dict[str, str] = {}  # permission id -> session id
        # Edits the user allows everywhere are asked of us (to read the files first) and allowed.
        self.answers_edits = False

    def tracked(self, choice: ProviderChoice) -> ProviderChoice:
        """The worker's config, with edits allowed everywhere asked of us first.

        Only that exact rule set is taken over: where some paths ask, the user answers as before.
        """
        edit = ((choice.overlay or {}).get("permission") or {}).get("edit")
        self.answers_edits = edit == EVERY_EDIT_ALLOWED
        return dataclasses.replace(choice, ask_edits=self.answers_edits)

    def shown_path(self, path: str) -> str:
        """A path as the user sees it: relative to the Jupyter root when under it."""
        return shown_path(path, self.root)

    # the permission hook

    @staticmethod
    def claims(event: dict[str, Any]) -> bool:
        """Whether this is an ``edit`` permission prompt (opencode's edit, write and patch)."""
        props = event.get("properties") or {}
        return event.get("type") == "permission.asked" and props.get("permission") == "edit"

    async def prepare(self, turn: Turn, event: dict[str, Any]) -> dict[str, Any] | None:
        """Keep the files as they are now, then show the prompt (or answer it: "Always")."""
        props = event.get("properties") or {}
        paths = _edit_paths(props.get("metadata") or {})
        if paths:
            states = await asyncio.to_thread(lambda: {p: read_state(p) for p in paths})
            befores = {p: d for p, d in states.items() if d is None or len(d) <= MAX_TRACKED_BYTES}
            await self.records.add_before(turn.session_id, turn.message_id, befores)
        pid = str(props.get("id"))
        client = self.service.supervisor.client
        if (self.answers_edits or turn.session_id in self._always) and client is not None:
            await client.reply_permission(pid, "once", None)
            return None
        self._pending[pid] = turn.session_id
        return event

    async def answer(self, session_id: str, pid: str, reply: str) -> tuple[str, str | None]:
        """An "Always" is remembered here and passed on as "once"."""
        if self._pending.pop(pid, None) is None:
            return reply, None
        if reply == "always":
            self._always.add(session_id)
            reply = "once"
        return reply, None

    # answers

    async def settle(self, turn: Turn) -> list[dict[str, Any]]:
        """When an answer ends: read what it left; the part listing its changes, if any."""
        records = await self.records.unsettled(turn.message_id)
        afters = await asyncio.to_thread(lambda: {r.id: read_state(r.path) for r in records})
        unchanged = [r.id for r in records if afters[r.id] == r.before]
        await self.records.settle(
            {rid: data for rid, data in afters.items() if rid not in unchanged}, unchanged
        )
        changed = [
            FileRecord(r.id, r.path, r.before, afters[r.id])
            for r in records
            if r.id not in unchanged
        ]
        shell = any(tool.get("name") in _SHELL_TOOLS for tool in turn.tools.values())
        if not changed and not shell:
            return []
        changes = [describe(r, self.shown_path(r.path), MAX_SHOWN_DIFF) for r in changed]
        return [{"kind": "files", "changes": changes, "shell": shell}]

    async def listing(self, message_id: str) -> list[dict[str, Any]]:
        """The changes of an answer that are not undone, with whole diffs."""
        records = await self.records.changes(message_id)
        return [describe(r, self.shown_path(r.path)) for r in records]

    async def undo(self, message_id: str) -> dict[str, Any]:
        """Restore each file still as the answer left it; name those changed since."""
        records = await self.records.changes(message_id)

        def put_back() -> tuple[list[FileRecord], list[FileRecord]]:
            done, changed = [], []
            for record in records:
                if read_state(record.path) != record.after:
                    changed.append(record)
                    continue
                restore(record.path, record.before)
                done.append(record)
            return done, changed

        done, changed = await asyncio.to_thread(put_back)
        await self.records.mark_undone([r.id for r in done])
        return {
            "restored": [self.shown_path(r.path) for r in done],
            "skipped": [
                {"path": self.shown_path(r.path), "reason": "changed since the answer"}
                for r in changed
            ],
        }
