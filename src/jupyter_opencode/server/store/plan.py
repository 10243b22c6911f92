"""The agent's plan (its todo list) as the session's answers last stored it."""

from __future__ import annotations

import json
from typing import Any

from .store import SessionStore


async def latest_plan(store: SessionStore, session_id: str) -> list[dict[str, Any]] | None:
    """The todo items of the newest answer that wrote a plan, or None when none did."""
    async with store.db.execute(
        "SELECT parts FROM messages WHERE session_id = ? AND role = 'assistant'"
        ' AND parts LIKE \'%"kind": "todo"%\' ORDER BY rowid DESC LIMIT 1',
        (session_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    plans = [p for p in json.loads(row[0]) if p.get("kind") == "todo"]
    return list(plans[0]["todos"]) if plans else None
