"""Files and folders under the Jupyter root matching what follows an ``@`` in the composer.

The root is walked (in a thread) into a list of paths: each keystroke only filters that list,
and a list older than a few seconds is walked again in the background. Hidden paths and
usual build or cache folders come last.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_ENTRIES = 100_000
INDEX_SECONDS = 10.0
# Folders listed but never entered: large, generated, and never what a person mentions.
_SKIPPED = frozenset(
    (".git", "node_modules", "__pycache__", ".ipynb_checkpoints", ".venv", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", "site-packages")
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One path under the root: relative, POSIX, with what ranks it."""

    path: str
    lower: str
    name: str
    folder: bool
    hidden: bool


def _walk(root: Path) -> list[Entry]:
    entries: list[Entry] = []
    for top, dirs, files in os.walk(root):
        relative = os.path.relpath(top, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        hidden_here = any(p.startswith(".") for p in prefix.split("/") if p)
        for name in dirs:
            path = prefix + name
            hidden = hidden_here or name.startswith(".") or name in _SKIPPED
            entries.append(Entry(path, path.lower(), name.lower(), True, hidden))
        dirs[:] = [d for d in dirs if d not in _SKIPPED and not os.path.islink(Path(top, d))]
        for name in files:
            path = prefix + name
            hidden = hidden_here or name.startswith(".")
            entries.append(Entry(path, path.lower(), name.lower(), False, hidden))
        if len(entries) >= MAX_ENTRIES:
            break
    return entries


def _rank(entry: Entry, query: str) -> int | None:
    """Lower is better; None when the entry does not match."""
    if not query:
        rank = entry.path.count("/") * 2
    elif entry.name.startswith(query):
        rank = 0
    elif query in entry.name:
        rank = 1
    elif query in entry.lower:
        rank = 2
    else:
        return None
    return rank + (10 if entry.hidden else 0)


class FileFinder:
    """Matches under one root, from an index refreshed when older than a few seconds."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._entries: list[Entry] | None = None
        self._made = 0.0
        self._walking: asyncio.Task[list[Entry]] | None = None

    async def _walk(self) -> list[Entry]:
        try:
            self._entries = await asyncio.to_thread(_walk, self.root)
            self._made = time.monotonic()
            return self._entries
        finally:
            self._walking = None

    async def _index(self) -> list[Entry]:
        """The index; an old one is used while a new one is made (a keystroke never waits)."""
        if self._walking is None and time.monotonic() - self._made > INDEX_SECONDS:
            self._walking = asyncio.ensure_future(self._walk())
        if self._entries is None:
            assert self._walking is not None
            return await asyncio.shield(self._walking)
        return self._entries

    async def find(self, query: str, limit: int) -> list[dict[str, Any]]:
        """The best ``limit`` matches: name starts with, name contains, path contains."""
        needle = query.strip().lower()
        ranked = heapq.nsmallest(
            limit,
            (
                (rank, len(e.path), e.path, e)
                for e in await self._index()
                if (rank := _rank(e, needle)) is not None
            ),
            key=lambda item: item[:3],
        )
        return [
            {
                "path": e.path,
                "type": "folder" if e.folder else "file",
                "hidden": e.hidden,
                "size": 0 if e.folder else self._size(e.path),
            }
            for *_, e in ranked
        ]

    def _size(self, path: str) -> int:
        try:
            return (self.root / path).stat().st_size
        except OSError:  # removed since the walk
            return 0
