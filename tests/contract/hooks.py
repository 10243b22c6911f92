"""schemathesis hooks for the contract run: Jupyter's 403, and rejected requests change nothing.

Loaded by ``st run`` through ``SCHEMATHESIS_HOOKS=tests.contract.hooks``; the server's database
is ``CONTRACT_DB`` (read here, never written).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from typing import Any

import schemathesis

_STEADY_SECONDS = 0.03
_TIMEOUT = 30.0
_state: dict[str, Any] = {}


class SavedData:
    """Digests of the server's database, read through one connection, cached until it changes."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )  # each phase runs in a thread of its own, one request at a time
        self._cached: tuple[int, frozenset[str], str] | None = None

    def answering(self) -> frozenset[str]:
        """Sessions with an answer in progress (its own writes go on meanwhile)."""
        rows = self.db.execute(
            "SELECT DISTINCT session_id FROM messages WHERE status IN ('pending', 'streaming')"
        ).fetchall()
        return frozenset(sid for (sid,) in rows)

    def digest(self, skip: frozenset[str]) -> str:
        """Everything saved, but for the rows of the sessions in ``skip``."""
        # data_version moves whenever another connection (the server) commits.
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if self._cached is not None and self._cached[:2] == (version, skip):
            return self._cached[2]
        tables = [
            name
            for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith(("sqlite_", "search_index"))  # FTS shadows follow search_docs
        ]
        rows = []
        for table in tables:
            columns = [c[1] for c in self.db.execute(f'PRAGMA table_info("{table}")')]
            key = "id" if table == "sessions" else "session_id" if "session_id" in columns else None
            for row in self.db.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2'):
                if key is None or row[columns.index(key)] not in skip:
                    rows.append(row)
        value = hashlib.sha256(repr(rows).encode()).hexdigest()
        self._cached = (version, skip, value)
        return value

    def steady_digest(self, skip: frozenset[str]) -> str:
        """The digest once two reads a moment apart agree (at once when nothing was written)."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if not skip and self._cached is not None and self._cached[:2] == (version, skip):
            return self._cached[2]
        deadline = time.monotonic() + _TIMEOUT
        last = self.digest(skip)
        while time.monotonic() < deadline:
            time.sleep(_STEADY_SECONDS)
            current = self.digest(skip)
            if current == last:
                return current
            last = current
        raise AssertionError(f"the saved data kept changing for {_TIMEOUT} s")


def _saved() -> SavedData:
    if "saved" not in _state:
        _state["saved"] = SavedData(os.environ["CONTRACT_DB"])
    saved: SavedData = _state["saved"]
    return saved


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Remember what was saved before the request (but for answers in progress)."""
    saved = _saved()
    skip = saved.answering()
    _state["before"] = (skip, saved.steady_digest(skip))


@schemathesis.check
def rejected_request_changes_nothing(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx leaves every saved row as it was."""
    if response.status_code < 400 or "before" not in _state:
        return None
    skip, before = _state.pop("before")
    if _saved().steady_digest(skip) != before:
        raise AssertionError(f"a rejected request ({response.status_code}) changed saved data")
    return None


@schemathesis.check
def missing_token_is_403(ctx: Any, response: Any, case: Any) -> bool | None:
    """Without a token Jupyter answers 403 (its convention, declared), as JSON with a reason."""
    if response.request.headers.get("Authorization"):
        return None
    if response.status_code != 403:
        raise AssertionError(f"no token got {response.status_code}, expected 403")
    body = json.loads(response.content)
    if not (body.get("message") and body.get("reason")):
        raise AssertionError("a 403 without {message, reason}")
    return None
