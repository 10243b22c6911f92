"""Reading a JSON export back in: validation that says what is wrong, then fresh rows."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from ..store import SessionStore
from .options import FORMAT_NAME, FORMAT_VERSION

ROLES = ("user", "assistant", "system")
STATUSES = ("pending", "streaming", "complete", "error", "interrupted", "aborted")
MAX_MESSAGES = 100_000
MAX_TITLE = 200
MAX_NOTE = 10_000
_NUMBER = (int, float)
# String fields the views read from attached context and message parts (the first required).
_CONTEXT_FIELDS = ("kind", "label", "text")
_PART_FIELDS = ("kind", "text", "name", "status", "title", "output", "error")


class ImportRejected(ValueError):
    """An import that cannot be read: ``str(e)`` says what is wrong, ``reason`` names it."""

    def __init__(self, message: str, reason: str = "bad_import") -> None:
        super().__init__(message)
        self.reason = reason


def _check(ok: bool, message: str, reason: str = "bad_import") -> None:
    if not ok:
        raise ImportRejected(message, reason)


def _optional(data: dict[str, Any], key: str, kinds: Any, where: str, what: str) -> Any:
    value = data.get(key)
    _check(
        value is None or (isinstance(value, kinds) and not isinstance(value, bool)),
        f"{where}.{key} must be {what}",
    )
    return value


def _check_annotation(annotation: Any, where: str) -> None:
    if annotation is None:
        return
    _check(isinstance(annotation, dict), f"{where}.annotation must be an object or null")
    _check(
        annotation.get("rating") in ("up", "down", None),
        f"{where}.annotation.rating must be 'up', 'down' or null",
    )
    note = annotation.get("note", "")
    _check(
        isinstance(note, str) and len(note) <= MAX_NOTE,
        f"{where}.annotation.note must be a string of at most {MAX_NOTE} characters",
    )


def _check_message(message: Any, where: str) -> None:
    _check(isinstance(message, dict), f"{where} must be an object")
    _check(message.get("role") in ROLES, f"{where}.role must be one of {', '.join(ROLES)}")
    _check(
        message.get("status", "complete") in STATUSES,
        f"{where}.status must be one of {', '.join(STATUSES)}",
    )
    _check(isinstance(message.get("content"), str), f"{where}.content must be a string")
    _check(
        isinstance(message.get("created_at"), _NUMBER)
        and not isinstance(message["created_at"], bool),
        f"{where}.created_at must be a number (seconds since 1970)",
    )
    _optional(message, "completed_at", _NUMBER, where, "a number or null")
    _optional(message, "error", str, where, "a string or null")
    _optional(message, "model", str, where, "a string or null")
    _optional(message, "tokens", int, where, "an integer")
    _optional(message, "cost", _NUMBER, where, "a number")
    for key, fields in (("context", _CONTEXT_FIELDS), ("parts", _PART_FIELDS)):
        items = message.get(key, [])
        _check(isinstance(items, list), f"{where}.{key} must be a list of objects")
        for index, item in enumerate(items):
            _check(
                isinstance(item, dict)
                and all(isinstance(item.get(f, ""), str) for f in fields)
                and bool(item.get(fields[0])),
                f"{where}.{key}[{index}] must be an object with string fields "
                + ", ".join(fields)
                + f" ({fields[0]} required)",
            )
    _check_annotation(message.get("annotation"), where)


def _check_session(session: Any) -> None:
    _check(isinstance(session, dict), "'session' must be an object")
    title = session.get("title", "")
    _check(
        isinstance(title, str) and len(title) <= MAX_TITLE,
        f"session.title must be a string of at most {MAX_TITLE} characters",
    )
    tags = session.get("tags", [])
    _check(
        isinstance(tags, list) and all(isinstance(tag, str) for tag in tags),
        "session.tags must be a list of strings",
    )
    for key in ("starred", "archived"):
        _check(isinstance(session.get(key, False), bool), f"session.{key} must be true or false")
    for key in ("model", "notebook_path"):
        _optional(session, key, str, "session", "a string or null")
    for key in ("created_at", "last_activity"):
        _optional(session, key, _NUMBER, "session", "a number")
    _optional(session, "settings", dict, "session", "an object")


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
    _check(
        doc.get("format") == FORMAT_NAME,
        f"'format' must be {FORMAT_NAME!r}: this is not a jupyter-opencode JSON export",
        "bad_format",
    )
    version = doc.get("version")
    _check(
        version == FORMAT_VERSION and not isinstance(version, bool),
        f"export version {version!r} is not supported: this server reads version {FORMAT_VERSION}",
        "unsupported_version",
    )
    _check_session(doc.get("session"))
    messages = doc.get("messages")
    _check(isinstance(messages, list), "'messages' must be a list")
    _check(
        len(messages) <= MAX_MESSAGES,
        f"the export has {len(messages)} messages; at most {MAX_MESSAGES} can be imported",
        "import_too_large",
    )
    for index, message in enumerate(messages):
        _check_message(message, f"messages[{index}]")
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
