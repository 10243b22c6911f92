"""Cell operations on nbformat v4 cell lists, and how cells are shown to the agent."""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

Cell = dict[str, Any]
Image = tuple[str, str]  # (mime type, base64 data)

CELL_TYPES = ("code", "markdown", "raw")
OUTPUT_LIMIT = 4000
IMAGE_TYPES = ("image/png", "image/jpeg")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ToolInputError(ValueError):
    """The agent's arguments do not fit the notebook (no such cell, bad index...)."""


def text_of(value: Any) -> str:
    """nbformat multiline text (a string or a list of lines) as one string."""
    return "".join(value) if isinstance(value, list) else str(value or "")


def locate(cells: list[Cell], ref: Any) -> int:
    """The index of the cell named by ``ref``: an index, or a cell id."""
    if isinstance(ref, str):
        for index, cell in enumerate(cells):
            if cell.get("id") == ref:
                return index
        if not ref.strip().lstrip("-").isdigit():
            raise ToolInputError(f"no cell has the id {ref!r}")
        ref = int(ref)
    if isinstance(ref, bool) or not isinstance(ref, int):
        raise ToolInputError("'cell' must be a cell index or a cell id")
    if not 0 <= ref < len(cells):
        raise ToolInputError(
            f"cell index {ref} is out of range: the notebook has {len(cells)} cells"
        )
    return ref


def new_cell(cell_type: str, source: str) -> Cell:
    """A fresh nbformat 4.5 cell."""
    if cell_type not in CELL_TYPES:
        raise ToolInputError(f"'cell_type' must be one of {', '.join(CELL_TYPES)}")
    cell: Cell = {"cell_type": cell_type, "id": uuid.uuid4().hex[:12], "metadata": {}}
    cell["source"] = source
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


@dataclass
class Change:
    """One change to a notebook's cells, in terms every backend applies the same way."""

    op: str  # insert | set_source | delete | move | run
    cell_id: str
    index: int
    cell: Cell | None = None  # insert: the whole new cell
    source: str | None = None  # set_source
    to: int | None = None  # move
    before: Cell | None = None
    after: Cell | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """What a backend needs to apply it (no before/after)."""
        data: dict[str, Any] = {"op": self.op, "cell_id": self.cell_id, "index": self.index}
        for key in ("cell", "source", "to"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


def _str_arg(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise ToolInputError(f"'{name}' must be a string")
    return value


def _int_arg(args: dict[str, Any], name: str, low: int, high: int) -> int:
    value = args.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolInputError(f"'{name}' must be an integer from {low} to {high}")
    return value


def plan(tool: str, args: dict[str, Any], cells: list[Cell]) -> Change:
    """The change a mutating tool call asks for, checked against the current cells."""
    if tool == "insert_cell":
        index = _int_arg(args, "index", 0, len(cells))
        cell = new_cell(str(args.get("cell_type") or "code"), _str_arg(args, "source"))
        return Change("insert", cell["id"], index, cell=cell, after=cell)
    index = locate(cells, args.get("cell"))
    current = copy.deepcopy(cells[index])  # kept as it was, whatever happens to the list
    cell_id = str(current.get("id") or "")
    if tool == "edit_cell":
        source = _str_arg(args, "source")
        after = {**current, "source": source}
        return Change("set_source", cell_id, index, source=source, before=current, after=after)
    if tool == "delete_cell":
        return Change("delete", cell_id, index, before=current)
    if tool == "move_cell":
        to = _int_arg(args, "index", 0, len(cells) - 1)
        return Change("move", cell_id, index, to=to, before=current, after=current)
    if tool == "run_cell":
        if current.get("cell_type") != "code":
            raise ToolInputError(
                f"cell {index} is a {current.get('cell_type')} cell: only code runs"
            )
        return Change("run", cell_id, index, before=current)
    raise ToolInputError(f"unknown notebook tool {tool!r}")


def apply(cells: list[Cell], change: dict[str, Any]) -> int:
    """Apply a wire change to a cell list in place; return the changed cell's index (-1: gone)."""
    op = change["op"]
    if op == "insert":
        index = min(max(int(change["index"]), 0), len(cells))
        cells.insert(index, change["cell"])
        return index
    index = next((i for i, c in enumerate(cells) if c.get("id") == change["cell_id"]), -1)
    if index < 0:
        raise ToolInputError(f"no cell has the id {change['cell_id']!r} any more")
    if op == "set_source":
        cells[index]["source"] = change["source"]
        return index
    if op == "restore":
        for key in ("source", "outputs", "execution_count"):
            if key in change["cell"]:
                cells[index][key] = change["cell"][key]
        return index
    if op == "delete":
        del cells[index]
        return -1
    if op == "move":
        cell = cells.pop(index)
        to = min(max(int(change["to"]), 0), len(cells))
        cells.insert(to, cell)
        return to
    raise ToolInputError(f"unknown change {op!r}")


def inverse(change: Change) -> dict[str, Any]:
    """The wire change that undoes ``change``."""
    if change.op == "insert":
        return {"op": "delete", "cell_id": change.cell_id, "index": change.index}
    if change.op == "set_source":
        # The whole cell as it was: its source, and its outputs if a run replaced them since.
        return {
            "op": "restore",
            "cell_id": change.cell_id,
            "index": change.index,
            "cell": change.before,
        }
    if change.op == "delete":
        return {
            "op": "insert",
            "cell_id": change.cell_id,
            "index": change.index,
            "cell": change.before,
        }
    if change.op == "move":
        return {"op": "move", "cell_id": change.cell_id, "index": change.to, "to": change.index}
    raise ToolInputError(f"a {change.op} cannot be undone")


def summary(cell: Cell, index: int) -> dict[str, Any]:
    """Index, id, type, source and execution count of a cell."""
    data = {
        "index": index,
        "id": cell.get("id"),
        "type": cell.get("cell_type"),
        "source": text_of(cell.get("source")),
    }
    if cell.get("cell_type") == "code":
        data["execution_count"] = cell.get("execution_count")
    return data


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... output truncated: {len(text) - limit} more characters]"


def render_outputs(
    outputs: list[dict[str, Any]], limit: int = OUTPUT_LIMIT
) -> tuple[str, list[Image]]:
    """Outputs as text for the agent (truncated with a marker) and their images."""
    texts: list[str] = []
    images: list[Image] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(text_of(output.get("text")))
        elif kind == "error":
            trace = "\n".join(text_of(line) for line in output.get("traceback") or [])
            head = f"{output.get('ename')}: {output.get('evalue')}"
            texts.append(f"{head}\n{_ANSI.sub('', trace)}" if trace else head)
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") or {}
            image = next((mime for mime in IMAGE_TYPES if mime in data), None)
            if image is not None:
                images.append((image, text_of(data[image]).strip()))
                texts.append(f"[image: {image}]")
            elif "text/plain" in data:
                texts.append(text_of(data["text/plain"]))
            elif data:
                texts.append(f"[output of type {', '.join(sorted(data))}]")
    # Each output on its own budget: a long print must not hide the error after it.
    text = "\n".join(_truncate(t.rstrip("\n"), limit) for t in texts)
    return _truncate(text, 3 * limit), images


def render_cell(cell: Cell, index: int, limit: int = OUTPUT_LIMIT) -> tuple[str, list[Image]]:
    """One cell as the agent reads it: a header line, its source, its outputs."""
    info = summary(cell, index)
    head = f"--- cell {index} id={info['id']} type={info['type']}"
    if info["type"] == "code":
        count = info["execution_count"]
        head += f" execution_count={count if count is not None else 'none'}"
    lines = [head, info["source"]]
    images: list[Image] = []
    if cell.get("outputs"):
        text, images = render_outputs(cell["outputs"], limit)
        lines += ["--- outputs", text]
    return "\n".join(lines), images
