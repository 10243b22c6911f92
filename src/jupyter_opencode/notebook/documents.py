"""Reaching one notebook: the document open in a browser, else its file (contents manager)."""

from __future__ import annotations

import copy
import uuid
from typing import Any, Protocol

import nbformat
from jupyter_server.utils import ensure_async

from .cells import Cell, ToolInputError, apply
from .live import Browser, LiveDocuments

LIVE_TIMEOUT = 30.0


class NotebookDocument(Protocol):
    """A notebook the tools can read and change; every change answers the cell as re-read."""

    path: str
    where: str

    async def cells(self) -> list[Cell]:
        """The cells as they are now."""

    async def change(self, wire: dict[str, Any]) -> tuple[int, Cell | None]:
        """Apply a change; (index, cell) of the changed cell re-read after it (None: deleted)."""

    async def run(self, cell_id: str, timeout: float) -> Cell:
        """Run a code cell as the user would; the cell with its new outputs."""


class OpenNotebook:
    """The notebook open in a browser: changes go to its document; the user saves."""

    where = "the notebook open in JupyterLab (unsaved until the user saves)"

    def __init__(self, live: LiveDocuments, browser: Browser, path: str) -> None:
        self.live = live
        self.browser = browser
        self.path = path

    async def cells(self) -> list[Cell]:
        """The open document's cells, read by the browser."""
        result = await self.live.request(
            self.browser, {"action": "read", "path": self.path}, LIVE_TIMEOUT
        )
        return list(result["cells"])

    async def change(self, wire: dict[str, Any]) -> tuple[int, Cell | None]:
        """Apply the change to the open document; the browser re-reads the cell after."""
        result = await self.live.request(
            self.browser, {"action": "change", "path": self.path, "change": wire}, LIVE_TIMEOUT
        )
        return int(result["index"]), result.get("cell")

    async def run(self, cell_id: str, timeout: float) -> Cell:
        """Run the cell in JupyterLab, so its outputs appear as if the user ran it."""
        result = await self.live.request(
            self.browser,
            {"action": "run", "path": self.path, "cell_id": cell_id, "timeout": timeout},
            timeout + LIVE_TIMEOUT,
        )
        cell: Cell = result["cell"]
        return cell


def _with_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """nbformat 4.5 with an id on every cell, so cells can be named and undone."""
    if nb.nbformat_minor < 5:
        nb.nbformat_minor = 5
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = uuid.uuid4().hex[:12]
    return nb


class NotebookFile:
    """A notebook no browser has open: changed through the contents manager, validated."""

    where = "the notebook file (saved)"

    def __init__(self, contents_manager: Any, path: str) -> None:
        self.contents = contents_manager
        self.path = path

    async def _load(self) -> nbformat.NotebookNode:
        try:
            model = await ensure_async(self.contents.get(self.path, content=True, type="notebook"))
        except Exception as e:  # the contents manager raises tornado HTTPErrors (404, 400...)
            raise ToolInputError(f"cannot read {self.path}: {getattr(e, 'log_message', e)}") from e
        return _with_ids(model["content"])

    async def cells(self) -> list[Cell]:
        """The cells of the file."""
        nb = await self._load()
        return [dict(cell) for cell in nb.cells]

    async def change(self, wire: dict[str, Any]) -> tuple[int, Cell | None]:
        """Apply the change, validate, save, and read the file back."""
        nb = await self._load()
        apply(nb.cells, nbformat.from_dict(copy.deepcopy(wire)))
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as e:
            raise ToolInputError(f"the change would make an invalid notebook: {e.message}") from e
        model = {"type": "notebook", "format": "json", "content": nb}
        await ensure_async(self.contents.save(model, self.path))
        cells = await self.cells()
        for index, cell in enumerate(cells):
            if cell.get("id") == wire["cell_id"]:
                return index, cell
        return -1, None

    async def run(self, cell_id: str, timeout: float) -> Cell:
        """Closed notebooks are not run: their outputs would have nowhere to appear."""
        raise ToolInputError(
            f"{self.path} is not open in JupyterLab: open it there to run its cells"
        )
