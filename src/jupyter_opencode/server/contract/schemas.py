"""Every request and response shape of the REST routes, once, as JSON Schema (2020-12).

The handlers check requests against these constants (:mod:`.validation`) and the served
OpenAPI document (:mod:`.document`) is built from the same constants, so a limit changed here
changes both. ``x-reason`` / ``x-message`` name the 400 a value breaking that rule gets.
"""

from __future__ import annotations

from typing import Any

from ..export.options import FORMAT_NAME, FORMAT_VERSION, FORMATS
from ..protocol import MAX_CADENCE_MS
from .validation import Param

SESSION_ID_PATTERN = "^[A-Za-z0-9_-]{8,64}$"
TEMPLATE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$"
AGENT_NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
# At least one character that is not white space to Python (str.strip) nor to ECMA-262 regexes.
NOT_BLANK = (
    "[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 10_000
MAX_QUERY_CHARS = 1000
MAX_INSTRUCTIONS_CHARS = 20_000
MAX_PATH_CHARS = 4096
MAX_BULK = 500
MAX_IMPORT_MESSAGES = 100_000
MAX_SEARCH_OFFSET = 100_000
CONTEXT_KINDS = ("cell", "error", "variable", "text")
ROLES = ("user", "assistant", "system")
STATUSES = ("pending", "streaming", "complete", "error", "interrupted", "aborted")
ORGANIZE_FIELDS = ("title", "starred", "archived", "tags")
PERMISSION_REPLIES = ("once", "always", "reject")
QUERY_TRUE, QUERY_FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
FILTER_ALL = ("all", "any")


def rule(schema: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
    """A schema with the 400 (reason, message) that a value breaking it gets."""
    return {**schema, "x-reason": reason, "x-message": message}


def _nullable(kind: str) -> list[str]:
    return [kind, "null"]


# Fields

SESSION_ID = rule(
    {"type": "string", "pattern": SESSION_ID_PATTERN},
    "bad_session_id",
    "must be 8 to 64 characters of letters, digits, '-' or '_' (a session id)",
)
MODEL = rule(
    {"type": _nullable("string"), "pattern": "/", "description": "provider/model"},
    "bad_model",
    "must look like 'provider/model'",
)
TEXT = rule({"type": "string", "pattern": NOT_BLANK}, "empty_text", "must be a non-empty string")
CONTEXT_ITEM = {
    "type": "object",
    "required": ["kind", "label", "text"],
    "properties": {
        "kind": {"enum": list(CONTEXT_KINDS)},
        "label": {"type": "string"},
        "text": {"type": "string"},
    },
}
CONTEXT = rule(
    {"type": "array", "items": CONTEXT_ITEM, "description": "cells, errors, variables attached"},
    "bad_context",
    "must be a list of {kind, label, text} with kind one of " + ", ".join(CONTEXT_KINDS),
)
ATTACHMENT_ITEM = {
    "oneOf": [
        {
            "type": "object",
            "required": ["type", "path"],
            "properties": {
                "type": {"const": "file"},
                "path": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_CHARS},
            },
        },
        {
            "type": "object",
            "required": ["type", "mime", "data"],
            "properties": {
                "type": {"const": "image"},
                "mime": {"type": "string", "maxLength": 100},
                "data": {"type": "string", "description": "base64"},
                "name": {"type": "string", "maxLength": MAX_PATH_CHARS},
            },
        },
    ]
}
ATTACHMENTS = rule(
    {
        "type": "array",
        "items": ATTACHMENT_ITEM,
        "description": "files (relative to the root) and images (base64) sent with the prompt",
    },
    "bad_attachments",
    "must be a list of {type: 'file', path} or {type: 'image', mime, data, name?}",
)
TAGS = rule(
    {
        "type": "array",
        "maxItems": MAX_TAGS,
        "items": {"type": "string", "maxLength": MAX_TAG_CHARS, "pattern": NOT_BLANK},
    },
    "bad_tags",
    f"must be a list of at most {MAX_TAGS} tags of 1 to {MAX_TAG_CHARS} characters",
)
FORMAT = rule({"enum": list(FORMATS)}, "bad_format", "must be one of " + ", ".join(FORMATS))


def _flag(name: str) -> dict[str, Any]:
    return rule({"type": "boolean"}, f"bad_{name}", "must be true or false")


# Request bodies

AGENT = rule(
    {"type": _nullable("string"), "pattern": AGENT_NAME_PATTERN},
    "bad_agent",
    "must be an opencode agent name, e.g. build or plan",
)
PROMPT = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": TEXT,
        "model": MODEL,
        "agent": AGENT,
        "context": CONTEXT,
        "attachments": ATTACHMENTS,
        "template": rule(
            {"type": _nullable("string"), "description": "a template (first message only)"},
            "bad_template",
            "must be a template name",
        ),
        "notebook_path": rule(
            {"type": _nullable("string"), "maxLength": MAX_PATH_CHARS},
            "bad_notebook_path",
            f"must be a path of at most {MAX_PATH_CHARS} characters",
        ),
    },
}
EDIT = {"type": "object", "required": ["text"], "properties": {"text": TEXT, "model": MODEL}}
ORGANIZE = rule(
    {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "title": rule(
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_TITLE_CHARS,
                    "pattern": NOT_BLANK,
                },
                "bad_title",
                f"must be a non-empty string of at most {MAX_TITLE_CHARS} characters",
            ),
            "starred": _flag("starred"),
            "archived": _flag("archived"),
            "tags": TAGS,
        },
    },
    "empty_patch",
    "is empty: send any of " + ", ".join(ORGANIZE_FIELDS),
)
FORK = {
    "type": "object",
    "properties": {
        "message_id": rule(
            {"type": _nullable("string"), "description": "default: the last message"},
            "bad_message_id",
            "must be a message id",
        )
    },
}
ANNOTATION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rating": rule(
            {"enum": ["up", "down", None]}, "bad_rating", 'must be "up", "down" or null'
        ),
        "note": rule(
            {"type": "string", "maxLength": MAX_NOTE_CHARS},
            "bad_note",
            f"must be a string of at most {MAX_NOTE_CHARS} characters",
        ),
    },
}
TEMPLATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": rule(
            {"type": "string", "pattern": TEMPLATE_NAME_PATTERN},
            "bad_template_name",
            "must be 1 to 64 letters, digits, spaces, '.', '_' or '-'",
        ),
        "model": MODEL,
        "agent": AGENT,
        "instructions": rule(
            {"type": _nullable("string"), "maxLength": MAX_INSTRUCTIONS_CHARS},
            "bad_instructions",
            f"must be a string of at most {MAX_INSTRUCTIONS_CHARS} characters",
        ),
    },
}
PERMISSION_REPLY = {
    "type": "object",
    "required": ["reply"],
    "properties": {
        "reply": rule(
            {"enum": list(PERMISSION_REPLIES)},
            "bad_reply",
            "must be one of " + ", ".join(PERMISSION_REPLIES),
        )
    },
}
COMMAND_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_:./-]{0,127}$"
MAX_ARGUMENTS_CHARS = 100_000
COMMAND = {
    "type": "object",
    "required": ["command"],
    "additionalProperties": False,
    "properties": {
        "command": rule(
            {"type": "string", "pattern": COMMAND_NAME_PATTERN},
            "bad_command",
            "must be the name of an opencode command (GET commands lists them)",
        ),
        "arguments": rule(
            {"type": "string", "maxLength": MAX_ARGUMENTS_CHARS},
            "bad_arguments",
            f"must be a string of at most {MAX_ARGUMENTS_CHARS} characters",
        ),
        "model": MODEL,
        "agent": AGENT,
    },
}
MAX_QUESTIONS = 50
MAX_CHOICES = 100
QUESTION_REPLY = rule(
    {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "answers": rule(
                {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_QUESTIONS,
                    "items": {
                        "type": "array",
                        "maxItems": MAX_CHOICES,
                        "items": {"type": "string"},
                    },
                    "description": "one list of chosen labels (or typed answers) per question",
                },
                "bad_answers",
                "must be a list with one list of labels per question",
            ),
            "reject": rule(
                {"const": True, "description": "dismiss the question"},
                "bad_reject",
                "must be true (dismiss the question)",
            ),
        },
    },
    "bad_answer",
    'must be {"answers": [["label"], ...]} or {"reject": true}',
)
BULK_EXPORT = {
    "type": "object",
    "required": ["session_ids", "format"],
    "properties": {
        "session_ids": rule(
            {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BULK,
                "items": {"type": "string", "pattern": SESSION_ID_PATTERN},
            },
            "bad_session_ids",
            f"must be a list of 1 to {MAX_BULK} session ids",
        ),
        "format": FORMAT,
        "timestamps": _flag("timestamps"),
        "context": _flag("context"),
        "redact": _flag("redact"),
    },
}

MAX_TIME = 1e11  # seconds since 1970: the year 5138
MAX_TOKENS = 2**40
MAX_COST = 1e9
_PART = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"type": "string", "minLength": 1},
        **{name: {"type": "string"} for name in ("text", "name", "status", "title", "output")},
        "error": {"type": "string"},
    },
}
_IMPORTED_ANNOTATION = {
    "type": _nullable("object"),
    "properties": {
        "rating": rule(
            {"enum": ["up", "down", None]}, "bad_import", "must be 'up', 'down' or null"
        ),
        "note": rule(
            {"type": "string", "maxLength": MAX_NOTE_CHARS},
            "bad_import",
            f"must be a string of at most {MAX_NOTE_CHARS} characters",
        ),
    },
}


# An attachment as a sent message keeps it: what messages answer and imports take.
STORED_ATTACHMENT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "name", "size"],
    "properties": {
        "type": {"enum": ["file", "folder", "image"]},
        "name": {"type": "string"},
        "path": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "mime": {"type": "string"},
        "data": {"type": "string", "description": "an image's bytes, base64"},
    },
}


def _item_list(item: dict[str, Any], fields: str) -> dict[str, Any]:
    required = ", ".join(item["required"])
    described = f"must be an object with fields {fields} ({required} required)"
    return rule(
        {"type": "array", "items": rule(item, "bad_import", described)},
        "bad_import",
        "must be a list of objects",
    )


def _typed(kind: Any, what: str) -> dict[str, Any]:
    return rule({"type": kind}, "bad_import", f"must be {what}")


def _time(kind: Any, what: str) -> dict[str, Any]:
    schema = _typed(kind, f"{what} of seconds since 1970, up to {MAX_TIME:.0f}")
    return schema | {"minimum": 0, "maximum": MAX_TIME}


IMPORTED_MESSAGE = rule(
    {
        "type": "object",
        "required": ["role", "content", "created_at"],
        "properties": {
            "role": rule({"enum": list(ROLES)}, "bad_import", "must be one of " + ", ".join(ROLES)),
            "status": rule(
                {"enum": list(STATUSES)}, "bad_import", "must be one of " + ", ".join(STATUSES)
            ),
            "content": _typed("string", "a string"),
            "created_at": _time("number", "a number"),
            "completed_at": _time(_nullable("number"), "a number or null"),
            "error": _typed(_nullable("string"), "a string or null"),
            "model": _typed(_nullable("string"), "a string or null"),
            "tokens": _typed(_nullable("integer"), f"an integer from 0 to {MAX_TOKENS}")
            | {"minimum": 0, "maximum": MAX_TOKENS},
            "cost": _typed(_nullable("number"), f"a number from 0 to {MAX_COST:.0f}")
            | {"minimum": 0, "maximum": MAX_COST},
            "context": _item_list(
                {
                    **CONTEXT_ITEM,
                    "required": ["kind"],
                    "properties": {
                        "kind": {"type": "string", "minLength": 1},
                        "label": {"type": "string"},
                        "text": {"type": "string"},
                    },
                },
                "kind, label, text",
            ),
            "attachments": _item_list(STORED_ATTACHMENT, "type, name, size, path, mime, data"),
            "parts": _item_list(_PART, "kind, text, name, status, title, output, error"),
            "annotation": rule(_IMPORTED_ANNOTATION, "bad_import", "must be an object or null"),
        },
    },
    "bad_import",
    "must be an object",
)
IMPORTED_SESSION = rule(
    {
        "type": "object",
        "properties": {
            "title": _typed("string", f"a string of at most {MAX_TITLE_CHARS} characters")
            | {"maxLength": MAX_TITLE_CHARS},
            "tags": rule(
                {"type": "array", "items": {"type": "string"}},
                "bad_import",
                "must be a list of strings",
            ),
            "starred": _typed("boolean", "true or false"),
            "archived": _typed("boolean", "true or false"),
            "model": _typed(_nullable("string"), "a string or null"),
            "notebook_path": _typed(_nullable("string"), "a string or null"),
            "created_at": _time(_nullable("number"), "a number"),
            "last_activity": _time(_nullable("number"), "a number"),
            "settings": _typed(_nullable("object"), "an object"),
        },
    },
    "bad_import",
    "must be an object",
)
EXPORT_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "session", "messages"],
    "description": "A JSON export (GET sessions/{sid}/export?format=json)",
    "properties": {
        "format": rule(
            {"const": FORMAT_NAME},
            "bad_format",
            f"must be {FORMAT_NAME!r}: this is not a jupyter-opencode JSON export",
        ),
        "version": rule(
            {"const": FORMAT_VERSION},
            "unsupported_version",
            f"must be {FORMAT_VERSION}: export version {{value!r}} is not supported, this server"
            f" reads version {FORMAT_VERSION}",
        ),
        "session": IMPORTED_SESSION,
        "messages": rule(
            {"type": "array", "maxItems": MAX_IMPORT_MESSAGES, "items": IMPORTED_MESSAGE},
            "bad_import",
            f"must be a list of at most {MAX_IMPORT_MESSAGES} messages",
        ),
    },
}
# Whether a body is an export of ours, and of a version this server reads: said first.
EXPORT_HEADER = [
    {
        "type": "object",
        "required": [name],
        "properties": {name: EXPORT_DOCUMENT["properties"][name]},
    }
    for name in ("format", "version")
]

# Query parameters


def _limit(default: int, high: int) -> dict[str, Any]:
    return rule(
        {"type": "integer", "minimum": 1, "maximum": high, "default": default},
        "bad_limit",
        f"must be an integer from 1 to {high}",
    )


def _choice(name: str, values: tuple[str, ...], default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if default is not None:
        schema["default"] = default
    return rule(schema, f"bad_{name}", "must be one of " + ", ".join(values))


_FILTER = (*QUERY_TRUE[:3], *QUERY_FALSE[:3], *FILTER_ALL)
QUERY_TEXT = rule(
    {"type": "string", "maxLength": MAX_QUERY_CHARS},
    "bad_q",
    f"must be at most {MAX_QUERY_CHARS} characters",
)
# Also the field of the socket's `cadence` frame, which changes it while the socket is open.
CADENCE_MS = Param(
    "cadence_ms",
    rule(
        {"type": "integer", "minimum": 0, "maximum": MAX_CADENCE_MS},
        "bad_cadence_ms",
        f"must be an integer from 0 to {MAX_CADENCE_MS}",
    ),
    description="ms between two frames of streamed text (default: the server's"
    " stream_cadence_ms; 0: every delta as it comes)",
)
STREAM_QUERY = (CADENCE_MS,)
SESSIONS_QUERY = (
    Param("limit", _limit(50, 200)),
    Param(
        "cursor",
        rule(
            {"type": "string", "pattern": r"^([0-9]{1,16}(\.[0-9]{1,16})?~[A-Za-z0-9_-]{8,64})?$"},
            "bad_cursor",
            "is not a cursor from this API (next_cursor of the previous page; empty: the first)",
        ),
    ),
    Param("q", QUERY_TEXT, description="words in titles and messages"),
    Param("starred", _choice("starred", _FILTER)),
    Param(
        "archived",
        _choice("archived", _FILTER, "false"),
        description="default false: archived sessions are hidden; all: both",
    ),
    Param("tag", {"type": "string"}),
    Param("notebook", {"type": "string", "description": "a notebook path, as sessions show it"}),
)
MESSAGES_QUERY = (
    Param("limit", _limit(50, 500)),
    Param("before", {"type": "string", "description": "a message id of this session"}),
)
SEARCH_QUERY = (
    Param(
        "q",
        rule(
            {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": NOT_BLANK},
            "empty_query",
            f"must be 1 to {MAX_QUERY_CHARS} characters, not only spaces",
        ),
        required=True,
    ),
    Param("limit", _limit(20, 100)),
    Param(
        "cursor",
        rule(
            {"type": "string", "pattern": f"^(?:[0-9]{{1,5}}|{MAX_SEARCH_OFFSET})?$"},
            "bad_cursor",
            "is not a cursor from this API (next_cursor of the previous page; empty: the first)",
        ),
    ),
)
FILES_QUERY = (
    Param(
        "q",
        rule(
            {"type": "string", "default": "", "maxLength": MAX_PATH_CHARS},
            "bad_query",
            f"must be at most {MAX_PATH_CHARS} characters",
        ),
        description="what follows the @ (empty: the root's first entries)",
    ),
    Param("limit", _limit(20, 200)),
)
_EXPORT_FLAG = (*QUERY_TRUE, *QUERY_FALSE)
EXPORT_QUERY = (
    Param("format", {**FORMAT, "type": "string", "default": "md"}),
    Param("timestamps", _choice("timestamps", _EXPORT_FLAG, "true"), description="dates"),
    Param("context", _choice("context", _EXPORT_FLAG, "true"), description="attached context"),
    Param("redact", _choice("redact", _EXPORT_FLAG, "false"), description="hide API keys"),
)

# One JSON-RPC message to the notebook tools' MCP route: shape checked by the route itself.
JSON_RPC_MESSAGE: dict[str, Any] = {"type": "object"}
