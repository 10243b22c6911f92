"""The notebook tools as the Jupyter server runs them: every change re-read and recorded."""

from __future__ import annotations

import asyncio
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.utils import ensure_async

from . import kernels
from .approvals import CHANGE_TOOLS, Approvals, ToolCall
from .cells import (
    Cell,
    Change,
    Image,
    ToolInputError,
    inverse,
    plan,
    render_cell,
    render_outputs,
    summary,
    text_of,
)
from .documents import NotebookDocument, NotebookFile, OpenNotebook
from .live import LiveDocuments
from .records import NotebookRecords

READ_TOOLS = ("list_notebooks", "read_notebook", "list_variables")
MAX_IMAGES = 8
MAX_RUN_SECONDS = 600
_VERBS = {"insert": "Inserted", "set_source": "Edited", "delete": "Deleted", "move": "Moved"}


class NotApproved(Exception):
    """A changing tool call that no one approved."""


class ChangeFailed(Exception):
    """A change was applied but reading the notebook back does not show it."""


@dataclass
class ToolResult:
    """What a tool answers the agent: text, and images (MCP image content)."""

    text: str
    images: list[Image] = field(default_factory=list)

    def content(self) -> list[dict[str, Any]]:
        """The result as MCP content: the text, then the images."""
        images = [
            {"type": "image", "data": data, "mimeType": mime}
            for mime, data in self.images[:MAX_IMAGES]
        ]
        return [{"type": "text", "text": self.text}, *images]


def check_path(path: Any) -> str:
    """A notebook path relative to the Jupyter root, or a ToolInputError."""
    if not isinstance(path, str) or not path.strip():
        raise ToolInputError("'path' must be the notebook's path relative to the Jupyter root")
    clean = posixpath.normpath(path.strip().lstrip("/"))
    if clean.startswith("..") or not clean.endswith(".ipynb"):
        raise ToolInputError(f"{path!r} is not a notebook path (*.ipynb) under the Jupyter root")
    return clean


class NotebookTools:
    """Runs the tools on the open document when a browser has it, else on the file."""

    def __init__(
        self, server: Any, live: LiveDocuments, records: NotebookRecords, approvals: Approvals
    ) -> None:
        self.server = server
        self.live = live
        self.records = records
        self.approvals = approvals
        # One change at a time per notebook: each is read, applied and re-read as a whole.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def document(self, path: str) -> NotebookDocument:
        """The open notebook if a browser holds it (never write a file under an editor)."""
        browser = self.live.holder(path)
        if browser is not None:
            return OpenNotebook(self.live, browser, path)
        return NotebookFile(self.server.contents_manager, path)

    async def call(self, tool: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool call coming back from the MCP server."""
        if tool == "list_notebooks":
            return await self.list_notebooks()
        path = check_path(args.get("path"))
        if tool == "read_notebook":
            return await self.read_notebook(path, args.get("start", 0), args.get("end"))
        if tool == "list_variables":
            return await self.list_variables(path)
        if tool in CHANGE_TOOLS:
            return await self.change(tool, {**args, "path": path})
        raise ToolInputError(f"unknown notebook tool {tool!r}")

    async def _kernel_paths(self) -> dict[str, str]:
        sessions = await ensure_async(self.server.session_manager.list_sessions())
        return {
            str(s["path"]): str(s["kernel"]["id"])
            for s in sessions
            if s.get("kernel") and str(s.get("path", "")).endswith(".ipynb")
        }

    async def list_notebooks(self) -> ToolResult:
        """Notebooks open in a browser or with a running kernel."""
        open_paths = set(self.live.paths())
        kernels_by_path = await self._kernel_paths()
        lines = []
        for path in sorted(open_paths | set(kernels_by_path)):
            where = ["open in JupyterLab"] if path in open_paths else []
            where += ["kernel running"] if path in kernels_by_path else []
            lines.append(f"- {path} ({', '.join(where)})")
        return ToolResult("\n".join(lines) if lines else "No notebook is open or has a kernel.")

    async def read_notebook(self, path: str, start: Any = 0, end: Any = None) -> ToolResult:
        """Cells ``start`` to ``end`` with sources and outputs."""
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ToolInputError("'start' must be a non-negative integer")
        if end is not None and (isinstance(end, bool) or not isinstance(end, int)):
            raise ToolInputError("'end' must be an integer or null")
        document = self.document(path)
        cells = await document.cells()
        stop = len(cells) if end is None else min(max(end, start), len(cells))
        texts = [f"{path}: {len(cells)} cells, showing {start} to {stop - 1} ({document.where})"]
        images: list[Image] = []
        for index in range(start, stop):
            text, found = render_cell(cells[index], index)
            texts.append(text)
            images += found
        return ToolResult("\n".join(texts), images)

    async def list_variables(self, path: str) -> ToolResult:
        """Variables of the notebook's kernel."""
        kernel_id = (await self._kernel_paths()).get(path)
        if kernel_id is None:
            raise ToolInputError(f"{path} has no running kernel")
        try:
            found = await kernels.variables(self.server.kernel_manager, kernel_id)
        except kernels.KernelError as e:
            raise ToolInputError(str(e)) from e
        lines = [f"- {v['name']}: {v['type']} ({v['summary']})" for v in found]
        return ToolResult("\n".join(lines) if lines else "The kernel has no variables yet.")

    async def preview(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """What the user approves: the cell before and after (a run shows its code)."""
        path = check_path(args.get("path"))
        document = self.document(path)
        change = plan(tool, args, await document.cells())
        before = text_of((change.before or {}).get("source")) if change.before else None
        after = text_of((change.after or {}).get("source")) if change.after else None
        return {
            "tool": tool,
            "op": change.op,
            "path": path,
            "index": change.index,
            "to": change.to,
            "cell_id": change.cell_id,
            "cell_type": (change.after or change.before or {}).get("cell_type"),
            "before": before,
            "after": after,
            "live": isinstance(document, OpenNotebook),
        }

    async def change(self, tool: str, args: dict[str, Any]) -> ToolResult:
        """An approved change or run, re-read after it landed, and recorded for undo."""
        call = self.approvals.take(tool, args)
        if call is None:
            raise NotApproved(f"{tool} on {args['path']} was not approved by the user")
        async with self._locks[args["path"]]:
            return await self._change(tool, args, call)

    async def _change(self, tool: str, args: dict[str, Any], call: ToolCall) -> ToolResult:
        document = self.document(args["path"])
        change = plan(tool, args, await document.cells())
        if change.op == "run":
            timeout = _timeout(args.get("timeout", 60))
            ran = await document.run(change.cell_id, timeout)
            text, images = render_outputs(ran.get("outputs") or [])
            head = f"Ran cell {change.index} (id {change.cell_id}) in {document.where}."
            count = ran.get("execution_count")
            return ToolResult(f"{head} execution_count={count}\n--- outputs\n{text}", images)
        index, cell = await document.change(change.wire())
        self._verify(change, index, cell)
        if cell is not None:
            change.after = cell
        await self.records.add_change(call.session_id, call.message_id, args["path"], change)
        verb = _VERBS[change.op]
        if cell is None:
            return ToolResult(
                f"{verb} cell {change.index} (id {change.cell_id}) in {document.where}."
            )
        text, _ = render_cell(cell, index)
        return ToolResult(f"{verb} cell; as re-read from {document.where}:\n{text}")

    @staticmethod
    def _verify(change: Change, index: int, cell: Cell | None) -> None:
        """A change that does not show when the notebook is read back is an error."""
        if change.op == "delete":
            if cell is not None:
                raise ChangeFailed(f"cell {change.cell_id} is still in the notebook")
            return
        if cell is None:
            raise ChangeFailed(f"cell {change.cell_id} is not in the notebook after the change")
        wanted = text_of((change.after or {}).get("source"))
        if text_of(cell.get("source")) != wanted:
            raise ChangeFailed(f"cell {change.cell_id} does not hold the new source")
        if change.op == "move" and index != change.to:
            raise ChangeFailed(f"cell {change.cell_id} is at {index}, not {change.to}")

    async def undo(self, message_id: str) -> dict[str, Any]:
        """Restore the cells an answer changed, newest change first; skip cells edited since."""
        records = await self.records.changes(message_id)
        restored: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        done: list[int] = []
        for record in reversed(records):
            async with self._locks[record["path"]]:
                outcome = await self._undo_one(record)
            if "reason" in outcome:
                skipped.append(outcome)
            else:
                restored.append(outcome)
                done.append(int(record["id"]))
        await self.records.mark_undone(done)
        return {"restored": restored, "skipped": skipped}

    async def _undo_one(self, record: dict[str, Any]) -> dict[str, Any]:
        """Undo one recorded change; what was restored, or why it was left (``reason``)."""
        change: Change = record["change"]
        document = self.document(record["path"])
        cells = await document.cells()
        current = next((c for c in cells if c.get("id") == change.cell_id), None)
        where = {"path": record["path"], "cell_id": change.cell_id, "op": change.op}
        reason = _edited_since(change, current)
        if reason:
            return {**where, "reason": reason}
        index, cell = await document.change(inverse(change))
        return {**where, "cell": summary(cell, index) if cell else None}


def _timeout(value: Any) -> float:
    """A run's timeout in seconds, 1 to MAX_RUN_SECONDS."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolInputError("'timeout' must be a number of seconds")
    if not 1 <= value <= MAX_RUN_SECONDS:
        raise ToolInputError(f"'timeout' must be from 1 to {MAX_RUN_SECONDS} seconds")
    return float(value)


def _edited_since(change: Change, current: Cell | None) -> str | None:
    """Why a change cannot be undone without losing what the user did since, if so."""
    if change.op == "delete":
        return "the cell is back in the notebook already" if current is not None else None
    if current is None:
        return "the cell was deleted since"
    if text_of(current.get("source")) != text_of((change.after or {}).get("source")):
        return "the cell was edited since: left as it is"
    return None
