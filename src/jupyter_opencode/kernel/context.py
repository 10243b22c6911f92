"""Notebook context: a recorder of executed cells and attachments built from them."""

from __future__ import annotations

import sys
import traceback
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import IPython

from .variables import array_summary

ATTACHMENT_BUDGET = 4000
STREAM_TAIL = 1500
TRACEBACK_TAIL = 2500
RESULT_BUDGET = 1500
RING_SIZE = 50

_IPYTHON_DIR = str(Path(IPython.__file__).parent)


def truncate(text: str, budget: int = ATTACHMENT_BUDGET) -> str:
    """Cut `text` to `budget` characters, with a visible marker saying how much was cut."""
    if len(text) <= budget:
        return text
    return f"{text[:budget]}\n… [truncated {len(text) - budget} chars]"


def tail(text: str, budget: int) -> str:
    """Keep the last `budget` characters of `text`, marking what was cut."""
    if len(text) <= budget:
        return text
    return f"… [truncated {len(text) - budget} chars]\n{text[-budget:]}"


@dataclass
class CellRecord:
    """One executed cell as the agent will see it."""

    execution_count: int | None
    source: str
    result: str | None = None
    stdout: str = ""
    stderr: str = ""
    error_name: str | None = None
    error_value: str | None = None
    traceback: str | None = None
    chat_cell: bool = False

    @property
    def failed(self) -> bool:
        """Whether the cell raised."""
        return self.error_name is not None

    @property
    def label(self) -> str:
        """Short name for a chip, e.g. "Cell [3]" or "Error in [3]: KeyError"."""
        where = f"[{self.execution_count}]" if self.execution_count is not None else "[ ]"
        return f"Error in {where}: {self.error_name}" if self.failed else f"Cell {where}"

    def render(self) -> str:
        """Plain-text description for the model."""
        lines = [f"Notebook cell {self.execution_count}:", "```python", self.source, "```"]
        if self.stdout:
            lines += ["stdout:", tail(self.stdout, STREAM_TAIL)]
        if self.stderr:
            lines += ["stderr:", tail(self.stderr, STREAM_TAIL)]
        if self.result is not None:
            lines += ["result:", truncate(self.result, RESULT_BUDGET)]
        if self.failed:
            lines += [f"error: {self.error_name}: {self.error_value}"]
            if self.traceback:
                lines += ["traceback:", tail(self.traceback, TRACEBACK_TAIL)]
        return "\n".join(lines)


class _Tee:
    """A text stream writing through to `target` while keeping a bounded tail."""

    def __init__(self, target: TextIO, limit: int) -> None:
        self.target = target
        self._limit = limit
        self._chunks: deque[str] = deque()
        self._size = 0

    def write(self, text: str) -> int:
        self._chunks.append(text)
        self._size += len(text)
        while self._size - len(self._chunks[0]) > self._limit:
            self._size -= len(self._chunks.popleft())
        return self.target.write(text)

    def captured(self) -> str:
        return "".join(self._chunks)[-self._limit :]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


def _user_traceback(error: BaseException) -> str:
    """Format `error` without IPython's own leading frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_IPYTHON_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _result_text(value: object) -> str | None:
    """text/plain of a cell's result, as IPython would display it."""
    if value is None:
        return None
    from IPython.lib.pretty import pretty

    try:
        return truncate(pretty(value, max_seq_length=100), RESULT_BUDGET)
    except Exception as exc:  # a broken __repr__ must not break the notebook
        return f"<unprintable {type(value).__name__}: {exc}>"


CellListener = Callable[[CellRecord], None]


class CellRecorder:
    """Keep the last executed cells of one IPython shell in a ring buffer."""

    _by_shell: weakref.WeakKeyDictionary[Any, CellRecorder] = weakref.WeakKeyDictionary()

    def __init__(self, shell: Any, size: int = RING_SIZE) -> None:
        self.shell = shell
        self.records: deque[CellRecord] = deque(maxlen=size)
        self._current: CellRecord | None = None
        self._tees: tuple[_Tee, _Tee] | None = None
        self._listeners: list[CellListener] = []

    @classmethod
    def install(cls, shell: Any) -> CellRecorder:
        """The recorder of `shell`, registering its event hooks the first time."""
        recorder = cls._by_shell.get(shell)
        if recorder is None:
            recorder = cls(shell)
            shell.events.register("pre_run_cell", recorder.pre_run_cell)
            shell.events.register("post_run_cell", recorder.post_run_cell)
            cls._by_shell[shell] = recorder
            recorder._record_previous()
        return recorder

    def _record_previous(self) -> None:
        """Record the cell that ran before the recorder existed (its output streams are lost)."""
        previous = getattr(self.shell, "last_execution_result", None)
        info = getattr(previous, "info", None)
        source = getattr(info, "raw_cell", None) or ""
        if previous is not None and source.strip():
            self._append(CellRecord(execution_count=None, source=source), previous)

    def add_listener(self, listener: CellListener) -> None:
        """Call `listener(record)` after each recorded cell."""
        self._listeners.append(listener)

    def remove_listener(self, listener: CellListener) -> None:
        """Stop calling `listener`."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def mark_chat_cell(self) -> None:
        """Flag the running cell as chat plumbing, so auto-context skips it."""
        if self._current is not None:
            self._current.chat_cell = True

    def pre_run_cell(self, info: Any) -> None:
        """Start recording a cell and tee its output streams."""
        self._current = CellRecord(execution_count=None, source=info.raw_cell or "")
        self._tees = (_Tee(sys.stdout, STREAM_TAIL), _Tee(sys.stderr, STREAM_TAIL))
        sys.stdout, sys.stderr = self._tees

    def post_run_cell(self, result: Any) -> None:
        """Finish the record of the cell that just ran."""
        record, tees = self._current, self._tees
        self._current, self._tees = None, None
        if tees is not None:
            # Another tool may have swapped the streams since: only undo our own.
            if sys.stdout is tees[0]:
                sys.stdout = tees[0].target
            if sys.stderr is tees[1]:
                sys.stderr = tees[1].target
        if record is None or not record.source.strip():
            return
        if tees is not None:
            record.stdout, record.stderr = tees[0].captured(), tees[1].captured()
        self._append(record, result)

    def _append(self, record: CellRecord, result: Any) -> None:
        """Complete `record` from an IPython ExecutionResult, keep it and tell the listeners."""
        record.execution_count = result.execution_count
        record.result = _result_text(result.result)
        error = result.error_in_exec or result.error_before_exec
        if error is not None:
            record.error_name = type(error).__name__
            record.error_value = str(error)
            record.traceback = _user_traceback(error)
        self.records.append(record)
        for listener in list(self._listeners):
            listener(record)

    def last(self, n: int = 1) -> list[CellRecord]:
        """The last `n` recorded cells that are not chat cells, oldest first."""
        records = [r for r in self.records if not r.chat_cell]
        return records[-n:] if n > 0 else []


def new_attachment(kind: str, label: str, text: str) -> dict[str, Any]:
    """A context chip: truncated text plus its size."""
    text = truncate(text)
    return {
        "id": uuid.uuid4().hex[:12],
        "kind": kind,
        "label": label,
        "size": len(text),
        "text": text,
    }


def cell_attachment(record: CellRecord) -> dict[str, Any]:
    """Chip for one recorded cell (kind "error" when it failed)."""
    return new_attachment("error" if record.failed else "cell", record.label, record.render())


def describe(obj: object, name: str | None = None) -> tuple[str, str, str]:
    """(kind, label, text) summarizing a Python object for the model."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if isinstance(obj, str):
        return "text", name or "Text", obj
    if pd is not None and isinstance(obj, pd.DataFrame):
        rows, cols = obj.shape
        label = name or "DataFrame"
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            text = "\n".join(
                [
                    f"{label}: pandas DataFrame, shape ({rows}, {cols})",
                    "dtypes:",
                    obj.dtypes.to_string(),
                    "head:",
                    obj.head().to_string(),
                ]
            )
        return "variable", label, text
    label = name or type(obj).__name__
    summary = array_summary(label, obj)
    if summary is not None:
        return "variable", label, summary
    return "variable", label, f"{label} ({type(obj).__name__}): {obj!r}"


def find_name(shell: Any, obj: object) -> str | None:
    """A user namespace name bound to `obj`, if any."""
    if shell is None:
        return None
    for name, value in list(shell.user_ns.items()):
        if value is obj and not name.startswith("_"):
            return name
    return None
