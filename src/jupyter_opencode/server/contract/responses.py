"""The shapes of the REST routes' answers, as JSON Schema (2020-12), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from .schemas import ROLES, STATUSES, STORED_ATTACHMENT


def _object(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    """An object with these (typed) properties, the ``required`` ones always present."""
    return {"type": "object", "required": list(required), "properties": properties}


_STRING, _NUMBER, _INTEGER, _BOOLEAN = (
    {"type": "string"},
    {"type": "number"},
    {"type": "integer"},
    {"type": "boolean"},
)
_MAYBE_STRING = {"type": ["string", "null"]}
_MAYBE_NUMBER = {"type": ["number", "null"]}

SESSION = _object(
    ("id", "title", "status", "created_at", "updated_at", "message_count", "starred", "tags"),
    id=_STRING,
    title=_STRING,
    model=_MAYBE_STRING,
    status=_STRING,
    parent_id=_MAYBE_STRING,
    fork_message_id=_MAYBE_STRING,
    opencode_session_id=_MAYBE_STRING,
    notebook_path=_MAYBE_STRING,
    created_at=_NUMBER,
    updated_at=_NUMBER,
    last_activity=_NUMBER,
    message_count=_INTEGER,
    tokens=_INTEGER,
    cost=_NUMBER,
    first_message_preview=_STRING,
    starred=_BOOLEAN,
    archived=_BOOLEAN,
    tags={"type": "array", "items": _STRING},
    imported_from={"type": ["object", "null"]},
    context_tokens=_INTEGER,
    context_limit=_INTEGER,
    agent=_MAYBE_STRING,
)
ANNOTATION = {
    "type": ["object", "null"],
    "properties": {"rating": {"enum": ["up", "down", None]}, "note": _STRING},
}
MESSAGE = _object(
    ("id", "session_id", "role", "status", "content", "created_at"),
    id=_STRING,
    session_id=_STRING,
    role={"enum": list(ROLES)},
    status={"enum": list(STATUSES)},
    content=_STRING,
    error=_MAYBE_STRING,
    model=_MAYBE_STRING,
    tokens=_INTEGER,
    cost=_NUMBER,
    created_at=_NUMBER,
    completed_at=_MAYBE_NUMBER,
    context={
        "type": "array",
        "items": _object(
            ("kind",),
            kind=_STRING,
            label=_STRING,
            text=_STRING,
        ),
    },
    attachments={"type": "array", "items": STORED_ATTACHMENT},
    parts={"type": "array", "items": {"type": "object"}},
    annotation=ANNOTATION,
)
PROMPTED = _object(
    ("session", "user_message", "assistant_message"),
    session=SESSION,
    user_message=MESSAGE,
    assistant_message=MESSAGE,
)
STATUS = _object(
    ("version", "worker", "demo"),
    version=_STRING,
    worker=_object(("state",), state=_STRING, pid={"type": ["integer", "null"]},
                   version=_MAYBE_STRING, restarts=_INTEGER, error=_MAYBE_STRING,
                   permissions={"type": "object"}),
    demo=_BOOLEAN,
)  # fmt: skip
MODELS = _object(
    ("models", "default"),
    models={
        "type": "array",
        "items": _object(
            ("id", "name"),
            id=_STRING,
            name=_STRING,
            images={"type": "boolean", "description": "whether the model takes images"},
        ),
    },
    default=_STRING,
)
FILES = _object(
    ("files",),
    files={
        "type": "array",
        "items": _object(
            ("path", "type", "hidden"),
            path=_STRING,
            type={"enum": ["file", "folder"]},
            hidden=_BOOLEAN,
            size=_INTEGER,
        ),
    },
)
SESSION_PAGE = _object(
    ("sessions", "next_cursor"),
    sessions={"type": "array", "items": SESSION},
    next_cursor=_MAYBE_STRING,
)
MESSAGE_PAGE = _object(
    ("messages", "has_more", "last_seq"),
    messages={"type": "array", "items": MESSAGE},
    has_more=_BOOLEAN,
    last_seq=_INTEGER,
)
ONE_SESSION = _object(("session",), session=SESSION)
ABORTED = _object(("aborted",), aborted=_BOOLEAN)
REPLIED = _object(("reply",), reply=_STRING)
AGENTS = _object(
    ("agents",),
    agents={
        "type": "array",
        "items": _object(
            ("name", "description", "mode"), name=_STRING, description=_STRING, mode=_STRING
        ),
    },
)
COMMANDS = _object(
    ("commands",),
    commands={
        "type": "array",
        "items": _object(
            ("name", "description", "source"), name=_STRING, description=_STRING, source=_STRING
        ),
    },
)
ANSWERED = _object(
    ("answers",),
    answers={"type": ["array", "null"], "items": {"type": "array", "items": _STRING}},
)
REWOUND = _object(
    ("removed", "notebook_changes", "session"),
    removed={"type": "array", "items": _STRING},
    notebook_changes={"type": "array", "items": _STRING},
    file_changes={"type": "array", "items": _STRING},
    session=SESSION,
)
ANNOTATED = _object(("message_id", "annotation"), message_id=_STRING, annotation=ANNOTATION)
HITS = _object(
    ("hits", "next_cursor"),
    hits={
        "type": "array",
        "items": _object(
            ("session_id", "kind", "snippet", "highlights"),
            session_id=_STRING,
            message_id=_MAYBE_STRING,
            kind={"enum": ["message", "title", "note", "attachment"]},
            title=_STRING,
            role={"enum": [*ROLES, None]},
            created_at=_NUMBER,
            snippet=_STRING,
            highlights={
                "type": "array",
                "items": {"type": "array", "items": _INTEGER, "minItems": 2, "maxItems": 2},
            },
        ),
    },
    next_cursor=_MAYBE_STRING,
)
TEMPLATE = _object(
    ("name", "model", "agent", "instructions"),
    name=_STRING,
    model=_MAYBE_STRING,
    agent=_MAYBE_STRING,
    instructions=_MAYBE_STRING,
)
TEMPLATES = _object(("templates",), templates={"type": "array", "items": TEMPLATE})
NOTEBOOK_CHANGES = _object(
    ("changes",),
    changes={
        "type": "array",
        "items": _object(("path", "op"), path=_STRING, op=_STRING, cell_id=_MAYBE_STRING),
    },
)
UNDONE = _object(
    ("restored", "skipped"),
    restored={"type": "array", "items": {"type": "object"}},
    skipped={"type": "array", "items": {"type": "object"}},
)
FILE_CHANGES = _object(
    ("changes", "note"),
    changes={
        "type": "array",
        "items": _object(
            ("path", "op", "additions", "deletions", "diff"),
            path=_STRING,
            op={"type": "string", "enum": ["added", "modified", "deleted"]},
            additions=_INTEGER,
            deletions=_INTEGER,
            diff=_STRING,
        ),
    },
    note=_STRING,
)
COMPACTED = _object(("message",), message=MESSAGE)
PLAN = _object(
    ("todos",),
    todos={
        "type": "array",
        "items": _object(
            ("content", "status", "priority"), content=_STRING, status=_STRING, priority=_STRING
        ),
    },
)
FILES_UNDONE = _object(
    ("restored", "skipped"),
    restored={"type": "array", "items": _STRING},
    skipped={
        "type": "array",
        "items": _object(("path", "reason"), path=_STRING, reason=_STRING),
    },
)
JSON_RPC_ANSWER = _object(("jsonrpc", "id"), jsonrpc={"const": "2.0"}, id={},
                          result={"type": "object"}, error={"type": "object"})  # fmt: skip
ERROR = _object(("message", "reason"), message=_STRING, reason=_STRING)
OPENAPI = _object(("openapi", "info", "paths"), openapi=_STRING, info={"type": "object"},
                  paths={"type": "object"})  # fmt: skip
