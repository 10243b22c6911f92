"""The OpenAPI 3.1 description of the routes under ``{base_url}opencode/``."""

from __future__ import annotations

from typing import Any

from ..._version import __version__

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
        "get": _op("The notebook changes an answer made (not undone yet)"),
        "post": _op("Undo them: restore the cells; cells edited since are left and listed"),
    },
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
