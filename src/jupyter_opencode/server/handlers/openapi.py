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
            ],
        )
    },
    "/sessions/{sid}": {
        "parameters": [_SID],
        "get": _op("One session"),
        "patch": _op(
            "Rename a session",
            body={
                "type": "object",
                "required": ["title"],
                "properties": {"title": {"type": "string"}},
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
        "post": _op("Branch: a new session with a copy of this conversation", ok="201"),
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
    "/stream": {
        "get": _op(
            "WebSocket: subscribe to sessions and receive their chunks",
            ok="101",
            description=(
                "Server sends {type: connected}; client sends {type: subscribe, session_id, "
                "after_seq}, {type: unsubscribe, session_id} or {type: prompt, session_id, text}; "
                "server sends {type: chunk|message, session_id, seq, ...} and {type: error}."
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
