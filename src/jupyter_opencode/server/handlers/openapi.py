"""The OpenAPI 3.1 description of the routes under ``{base_url}opencode/``."""

from __future__ import annotations

from typing import Any

from ..._version import __version__
from ..export.options import FORMAT_NAME, FORMAT_VERSION, FORMATS

_ERROR = {"$ref": "#/components/responses/Error"}
_SID = {
    "name": "sid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
}


def _op(summary: str, ok: str = "200", body: dict[str, Any] | None = None, **extra: Any) -> Any:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "OK"}, "400": _ERROR, "403": _ERROR, "404": _ERROR},
        **extra,
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return op


_PROMPT = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "model": {"type": "string", "description": "provider/model"},
        "template": {"type": "string", "description": "a template name (first message only)"},
        "notebook_path": {"type": "string", "description": "the notebook the session is from"},
        "context": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "label", "text"],
                "properties": {
                    "kind": {"enum": ["cell", "error", "variable", "text"]},
                    "label": {"type": "string"},
                    "text": {"type": "string"},
                },
            },
        },
    },
}

_MID = {"name": "mid", "in": "path", "required": True, "schema": {"type": "string"}}
_TEMPLATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$"},
        "model": {"type": "string", "description": "provider/model"},
        "agent": {"type": "string", "description": "an opencode agent, e.g. build or plan"},
        "instructions": {"type": "string", "description": "sent ahead of the first message"},
    },
}
_FLAG = {"type": "boolean"}
_EXPORT_OPTIONS = [
    {"name": "timestamps", "in": "query", "schema": _FLAG, "description": "dates (default true)"},
    {"name": "context", "in": "query", "schema": _FLAG, "description": "attached notebook context"},
    {"name": "redact", "in": "query", "schema": _FLAG, "description": "hide API-key-shaped text"},
]
_FORMAT = {"enum": list(FORMATS)}
_FILE = {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}

PATHS: dict[str, dict[str, Any]] = {
    "/status": {"get": _op("Package version and opencode worker state")},
    "/models": {"get": _op("Models offered by opencode and the default one")},
    "/sessions": {
        "get": _op(
            "Sessions, most recent first",
            parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "starred", "in": "query", "schema": {"enum": ["true", "false", "all"]}},
                {
                    "name": "archived",
                    "in": "query",
                    "description": "default false: archived sessions are hidden",
                    "schema": {"enum": ["true", "false", "all"]},
                },
                {"name": "tag", "in": "query", "schema": {"type": "string"}},
                {"name": "notebook", "in": "query", "schema": {"type": "string"}},
            ],
        )
    },
    "/sessions/{sid}": {
        "parameters": [_SID],
        "get": _op("One session"),
        "patch": _op(
            "Organize a session: title, starred, archived, tags",
            body={
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "starred": {"type": "boolean"},
                    "archived": {"type": "boolean"},
                    "tags": {
                        "type": "array",
                        "maxItems": 20,
                        "items": {"type": "string", "minLength": 1, "maxLength": 50},
                    },
                },
            },
        ),
        "delete": _op("Delete a session with its messages", ok="204"),
    },
    "/sessions/{sid}/messages": {
        "parameters": [_SID],
        "get": _op(
            "A page of messages, oldest first",
            parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "before", "in": "query", "schema": {"type": "string"}},
            ],
        ),
        "post": _op(
            "Send a prompt (creates the session on its first message)", ok="202", body=_PROMPT
        ),
    },
    "/sessions/{sid}/abort": {"parameters": [_SID], "post": _op("Stop the answer in progress")},
    "/sessions/{sid}/fork": {
        "parameters": [_SID],
        "post": _op(
            "Branch: a new session with the messages up to and including message_id (default"
            " all), continuing in an opencode fork taken there",
            ok="201",
            body={"type": "object", "properties": {"message_id": {"type": "string"}}},
        ),
    },
    "/sessions/{sid}/messages/{mid}": {
        "parameters": [_SID, _MID],
        "delete": _op(
            "Rewind: remove this message and every later one, here and in opencode (409 while"
            " answering); answers {removed, notebook_changes, session}, notebook_changes naming"
            " the removed answers whose notebook changes can still be undone",
        ),
    },
    "/sessions/{sid}/messages/{mid}/edit": {
        "parameters": [_SID, _MID],
        "post": _op(
            "Edit and resend a user message in a new branch taken just before it",
            ok="202",
            body={"type": "object", "required": ["text"], "properties": _PROMPT["properties"]},
        ),
    },
    "/sessions/{sid}/messages/{mid}/annotation": {
        "parameters": [_SID, _MID],
        "put": _op(
            "Rate a message and keep a note on it (searched, exported)",
            body={
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "rating": {"enum": ["up", "down", None]},
                    "note": {"type": "string", "maxLength": 10000},
                },
            },
        ),
    },
    "/search": {
        "get": _op(
            "Full-text search of messages, titles and notes, best first; words match by prefix,"
            " quoted phrases as phrases, and the query is always text (never search syntax)."
            " Hits: {session_id, message_id, kind, title, role, created_at, snippet,"
            " highlights: [[start, end]]} with plain-text snippets",
            parameters=[
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
        )
    },
    "/templates": {
        "get": _op("Every session template"),
        "post": _op("Create or replace a template", ok="201", body=_TEMPLATE),
    },
    "/templates/{name}": {
        "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "delete": _op("Delete a template", ok="204"),
    },
    "/sessions/{sid}/permissions/{pid}": {
        "parameters": [
            _SID,
            {"name": "pid", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "post": _op(
            "Answer a permission request",
            body={
                "type": "object",
                "required": ["reply"],
                "properties": {"reply": {"enum": ["once", "always", "reject"]}},
            },
        ),
    },
    "/sessions/{sid}/export": {
        "parameters": [_SID],
        "get": _op(
            "The session as a file (attachment named after its title)",
            parameters=[{"name": "format", "in": "query", "schema": _FORMAT}, *_EXPORT_OPTIONS],
            description="The JSON format holds everything and is what sessions/import reads.",
        ),
    },
    "/export": {
        "post": _op(
            "A zip of one export per session",
            body={
                "type": "object",
                "required": ["session_ids", "format"],
                "properties": {
                    "session_ids": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
                    "format": _FORMAT,
                    "timestamps": _FLAG,
                    "context": _FLAG,
                    "redact": _FLAG,
                },
            },
        )
    },
    "/sessions/import": {
        "post": _op(
            "A new session (fresh ids, marked imported) from a JSON export",
            ok="201",
            body={
                "type": "object",
                "required": ["format", "version", "session", "messages"],
                "properties": {
                    "format": {"const": FORMAT_NAME},
                    "version": {"const": FORMAT_VERSION},
                    "session": {"type": "object"},
                    "messages": {"type": "array", "items": {"type": "object"}},
                },
            },
        )
    },
    "/openapi.json": {"get": _op("This document")},
    "/notebook/tools/{tool}": {
        "parameters": [
            {"name": "tool", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "post": _op(
            "A notebook tool call of the opencode worker (its own token only): text and images",
            body={"type": "object"},
        ),
    },
    "/notebook/live": {
        "get": _op(
            "WebSocket of the labextension: the notebooks it has open, changes to apply",
            ok="101",
            description=(
                "Client sends {type: open, paths} and {type: reply, id, result|error}; server "
                "sends {type: request, id, action: read|change|run, path, ...}."
            ),
        )
    },
    "/sessions/{sid}/messages/{mid}/notebook-changes": {
        "parameters": [
            _SID,
            {"name": "mid", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "get": _op("The notebook changes an answer made (not undone yet; also once rewound)"),
        "post": _op("Undo them: restore the cells; cells edited since are left and listed"),
    },
    "/stream": {
        "get": _op(
            "WebSocket: subscribe to sessions and receive their chunks",
            ok="101",
            description=(
                "Server sends {type: connected}; client sends {type: subscribe, session_id, "
                "after_seq}, {type: unsubscribe, session_id} or {type: prompt, session_id, text}; "
                "server sends {type: chunk|message, session_id, seq, ...}, "
                "{type: rewind, session_id, seq, removed, notebook_changes: [message ids]} and "
                "{type: error}."
            ),
        )
    },
}


def openapi_document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document, with the server URL under this Jupyter server's base URL."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "jupyter-opencode", "version": __version__},
        "servers": [{"url": f"{base_url.rstrip('/')}/opencode"}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["message", "reason"],
                                "properties": {
                                    "message": {"type": "string"},
                                    "reason": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }
