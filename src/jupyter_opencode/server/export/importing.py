"""Reading a JSON export back in: validation that says what is wrong, then fresh rows."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from ..contract.schemas import EXPORT_DOCUMENT, EXPORT_HEADER
from ..contract.validation import Invalid, check
from ..store import SessionStore


class ImportRejected(ValueError):
    """An import that cannot be read: ``str(e)`` says what is wrong, ``reason`` names it."""

    def __init__(self, message: str, reason: str = "bad_import") -> None:
        super().__init__(message)
        self.reason = reason


def _check(ok: bool, message: str, reason: str = "bad_import") -> None:
    if not ok:
        raise ImportRejected(message, reason)


def read_export(body: bytes, max_bytes: int) -> dict[str, Any]:
    """The parsed export in ``body``, or ImportRejected saying what is wrong with it."""
    _check(
        len(body) <= max_bytes,
        f"the export is {len(body)} bytes; the limit is {max_bytes} bytes",
        "import_too_large",
    )
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: JSON nested too deeply
        raise ImportRejected(
            f"the body is not valid JSON (or nested too deeply): {e}", "bad_json"
        ) from e
    _check(isinstance(doc, dict), "the body must be a JSON object (a JSON export)", "bad_json")
    try:  # JSON can escape a lone surrogate, which no UTF-8 text (or later export) can hold
        json.dumps(doc, ensure_ascii=False).encode()
    except UnicodeEncodeError as e:
        raise ImportRejected(f"the export holds text that is not valid Unicode: {e}") from e
    try:
        for header in EXPORT_HEADER:
            check(header, doc)
        check(EXPORT_DOCUMENT, doc)
    except Invalid as e:
        raise ImportRejected(str(e), e.reason) from e
    return doc


def _message_row(message: dict[str, Any], sid: str) -> dict[str, Any]:
    status = message.get("status", "complete")
    return {
        "id": uuid.uuid4().hex,
        "session_id": sid,
        "role": message["role"],
        # Nothing streams into an imported session: an unfinished answer stays as it was cut.
        "status": "interrupted" if status in ("pending", "streaming") else status,
        "content": message["content"],
        "error": message.get("error"),
        "model": message.get("model"),
        "tokens": message.get("tokens") or 0,
        "cost": message.get("cost") or 0,
        "created_at": message["created_at"],
        "completed_at": message.get("completed_at"),
        "context": json.dumps(message.get("context", [])),
        "attachments": json.dumps(message.get("attachments", [])),
        "parts": json.dumps(message.get("parts", [])),
    }


def import_rows(
    doc: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """Rows of a new session (fresh ids, marked imported), its messages, and their annotations."""
    source, now, sid = doc["session"], time.time(), uuid.uuid4().hex
    messages = [_message_row(m, sid) for m in doc["messages"]]
    annotations = [
        (row["id"], m["annotation"])
        for row, m in zip(messages, doc["messages"], strict=True)
        if m.get("annotation")
    ]
    first_user = next((m["content"] for m in messages if m["role"] == "user"), "")
    session = {
        "id": sid,
        "title": source.get("title", ""),
        "model": source.get("model"),
        "status": "idle",
        "notebook_path": source.get("notebook_path"),
        "settings": json.dumps(source.get("settings") or {}),
        "created_at": source.get("created_at") or now,
        "updated_at": now,
        "last_activity": source.get("last_activity") or now,
        "message_count": len(messages),
        "tokens": sum(m["tokens"] for m in messages),
        "cost": sum(m["cost"] for m in messages),
        "first_message_preview": first_user[:200],
        "starred": source.get("starred", False),
        "archived": source.get("archived", False),
        "tags": json.dumps(source.get("tags", [])),
        "imported_from": json.dumps(
            {
                "session_id": source.get("id"),
                "title": source.get("title", ""),
                "exported_at": doc.get("exported_at"),
                "generator": doc.get("generator"),
                "imported_at": now,
            }
        ),
    }
    return session, messages, annotations


async def import_session(store: SessionStore, body: bytes, max_bytes: int) -> dict[str, Any]:
    """Create a new session from a JSON export; nothing is created when it is rejected."""
    loop = asyncio.get_running_loop()
    doc = await loop.run_in_executor(None, read_export, body, max_bytes)
    session, messages, annotations = import_rows(doc)
    return await store.insert_imported(session, messages, annotations)
