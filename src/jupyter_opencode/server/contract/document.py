"""The OpenAPI 3.1 document of the routes under ``{base_url}opencode/``, built from the schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..._version import __version__
from ..export.options import MEDIA_TYPES
from . import responses as r
from . import schemas as s
from .validation import Param

_JSON = "application/json"
_ERRORS = {
    "400": ("BadRequest", "The request breaks a rule of this document: the reason names it"),
    "403": ("Forbidden", "No valid token or cookie (Jupyter answers 403, not 401), or no right"),
    "404": ("NotFound", "No such session, message, template, agent, command or question"),
    "409": ("Conflict", "The session is answering (reason busy), or its state forbids this"),
    "410": ("Gone", "The session was deleted; its id is not used again (session_deleted)"),
    "413": ("TooLarge", "An attachment is over its size limit (attachment_too_large)"),
    "502": ("WorkerError", "opencode refused or failed this"),
    "503": ("Unavailable", "The database is locked or full, or the worker cannot start"),
}
SESSION_OPS = ("getSession", "organizeSession", "deleteSession", "listMessages", "sendPrompt",
               "abortAnswer", "forkSession", "exportSession")  # fmt: skip
WEBSOCKET_TAG = "websocket"
_STREAM_FRAMES = (
    "Server -> client: ConnectedFrame first, then ChunkFrame and MessageFrame (each with the"
    " session's next seq), AcceptedFrame, a rewind frame {type: rewind, session_id, seq,"
    " removed, notebook_changes}, a question frame {type: question, session_id, message_id,"
    " seq, question_id, questions, answers?, rejected?} and ErrorFrame; client -> server:"
    " SubscribeFrame {type: subscribe, session_id, after_seq}, {type: unsubscribe,"
    " session_id} and PromptFrame (the fields of POST sessions/{sid}/messages). The frames"
    " are those of the README's stream section."
)
_LIVE_FRAMES = (
    "Client -> server: {type: open, paths} and {type: reply, id, result|error}; server ->"
    " client: {type: request, id, action: read|change|run, path, ...}. Jupyter's own auth"
    " only: a kernel's token is refused."
)


def _path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}  # fmt: skip


_SID = _path_param("sid", s.SESSION_ID, "a session id (the client picks it for a new session)")
_MID = _path_param("mid", {"type": "string"}, "a message id of that session")


def _links(pointer: str, ops: Sequence[str], name: str = "sid") -> dict[str, Any]:
    return {
        f"{op}": {"operationId": op, "parameters": {name: f"$response.body#{pointer}"}}
        for op in ops
    }


def _bulk_export_link(pointer: str) -> dict[str, Any]:
    body = {"session_ids": [f"$response.body#{pointer}"], "format": "md"}
    return {"exportSessions": {"operationId": "exportSessions", "requestBody": body}}


MESSAGE_OPS = ("rewindMessage", "editMessage", "annotateMessage", "listNotebookChanges",
               "undoNotebookChanges")  # fmt: skip


def _message_links(sid: str, mid: str, ops: Sequence[str] = MESSAGE_OPS) -> dict[str, Any]:
    """To what uses a message of a session, from the expressions of those two ids."""
    return {op: {"operationId": op, "parameters": {"sid": sid, "mid": mid}} for op in ops}


def _fork_link(sid: str, message_id: str | None) -> dict[str, Any]:
    """To a fork of that session at that message (None: at its last)."""
    body = {"message_id": message_id}
    link = {"operationId": "forkSession", "parameters": {"sid": sid}, "requestBody": body}
    return {"forkSession": link}


def _prompted_links() -> dict[str, Any]:
    """From a prompt's answer to what uses its session and its two messages."""
    sid = "$response.body#/session/id"
    return {
        **_links("/session/id", SESSION_OPS),
        **_bulk_export_link("/session/id"),
        **_message_links(sid, "$response.body#/user_message/id", MESSAGE_OPS[:2]),
        **_message_links(sid, "$response.body#/assistant_message/id", MESSAGE_OPS[2:]),
        **_fork_link(sid, "$response.body#/user_message/id"),
    }


def _op(
    op_id: str,
    summary: str,
    ok: tuple[str, Any],
    errors: str = "",
    *,
    query: Sequence[Param] = (),
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    links: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """One operation: its answer, the errors it can give (403 and 503 always), its inputs."""
    status, shape = ok
    answer: dict[str, Any] = {"description": "OK"}
    if isinstance(shape, dict) and "content" in shape:
        answer.update(shape)
    elif shape is not None:
        answer["content"] = {_JSON: {"schema": shape}}
    if links:
        answer["links"] = links
    codes = sorted({*errors.split(), "403", "503"} | ({"400"} if query or body else set()))
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "responses": {
            status: answer,
            **{code: {"$ref": f"#/components/responses/{_ERRORS[code][0]}"} for code in codes},
        },
    }
    if description:
        op["description"] = description
    if query:
        op["parameters"] = [param.openapi() for param in query]
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {_JSON: {"schema": body}}}
    return op


def _notebook_mcp() -> dict[str, Any]:
    """The worker's MCP route: JSON-RPC in, JSON-RPC out (202 for a notification)."""
    op = _op(
        "notebookMCP",
        "The notebook tools over MCP (streamable HTTP, JSON answers) for the opencode worker:"
        " its own token only (any other gets 403)",
        ("200", r.JSON_RPC_ANSWER),
        body=s.JSON_RPC_MESSAGE,
        description="One JSON-RPC 2.0 message per POST: initialize, ping, tools/list and"
        " tools/call are answered.",
    )
    op["responses"]["202"] = {"description": "A notification or a client's answer: no body"}
    return {**op, "security": [{"workerToken": []}]}


def _websocket(
    op_id: str, summary: str, frames: str, query: Sequence[Param] = ()
) -> dict[str, Any]:
    """A WebSocket upgrade: 101 and the frames by name; a plain request gets a JSON 400."""
    return {
        "operationId": op_id,
        "summary": summary,
        "description": f"A WebSocket, not a JSON route. {frames}",
        "tags": [WEBSOCKET_TAG],
        "parameters": [
            {
                "name": "Upgrade",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "const": "websocket"},
            },
            {
                "name": "Connection",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "const": "Upgrade"},
            },
            *(param.openapi() for param in query),
        ],
        "responses": {
            "101": {"description": "Switching Protocols: the socket is open"},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "403": {"$ref": "#/components/responses/Forbidden"},
        },
    }


def _file(media_types: Sequence[str]) -> dict[str, Any]:
    """A download: JSON formats are JSON documents, the others bytes."""
    binary = {"type": "string", "format": "binary"}
    return {
        "content": {
            media: {"schema": {"type": "object"} if "json" in media else binary}
            for media in media_types
        },
        "headers": {
            "Content-Disposition": {
                "schema": {"type": "string"},
                "description": "attachment; filename=...",
            }
        },
    }


def paths(max_message_bytes: int, max_import_bytes: int) -> dict[str, dict[str, Any]]:
    """Every route and method, with the size limits this server is configured with."""
    prompt_limit = f"At most {max_message_bytes} bytes of text with its context (else 400)."
    session_links = _links("/session/id", SESSION_OPS)
    return {
        "/status": {
            "get": _op("getStatus", "Package version and opencode worker state", ("200", r.STATUS))
        },
        "/models": {
            "get": _op(
                "listModels",
                "Models offered by opencode and the default one",
                ("200", r.MODELS),
                "503",
            )
        },
        "/files": {
            "get": _op(
                "findFiles",
                "Files and folders under the Jupyter root matching a query (the @ menu)",
                ("200", r.FILES),
                query=s.FILES_QUERY,
                description="Names starting with the query first, then names and paths"
                " containing it; hidden and cache folders last.",
            )
        },
        "/agents": {
            "get": _op(
                "listAgents",
                "opencode's agents (not hidden ones): name, description, mode",
                ("200", r.AGENTS),
                "503",
            )
        },
        "/commands": {
            "get": _op(
                "listCommands",
                "opencode's commands (the user's Markdown ones, MCP prompts, skills)",
                ("200", r.COMMANDS),
                "503",
            )
        },
        "/sessions": {
            "get": _op(
                "listSessions",
                "Sessions, most recent first",
                ("200", r.SESSION_PAGE),
                query=s.SESSIONS_QUERY,
            )
        },
        "/sessions/{sid}": {
            "parameters": [_SID],
            "get": _op(
                "getSession",
                "One session",
                ("200", r.SESSION),
                "400 404",
                links={**_fork_link("$response.body#/id", None), **_bulk_export_link("/id")},
            ),
            "patch": _op(
                "organizeSession",
                "Organize a session: title, starred, archived, tags",
                ("200", r.SESSION),
                "404",
                body=s.ORGANIZE,
            ),
            "delete": _op(
                "deleteSession",
                "Delete a session with its messages (409 while it answers)",
                ("204", None),
                "400 404 409",
            ),
        },
        "/sessions/{sid}/messages": {
            "parameters": [_SID],
            "get": _op(
                "listMessages",
                "A page of messages, oldest first",
                ("200", r.MESSAGE_PAGE),
                "404",
                query=s.MESSAGES_QUERY,
                links={
                    **_message_links("$request.path.sid", "$response.body#/messages/0/id"),
                    **_fork_link("$request.path.sid", "$response.body#/messages/0/id"),
                },
            ),
            "post": _op(
                "sendPrompt",
                "Send a prompt (the first one creates the session)",
                ("202", r.PROMPTED),
                "404 409 410 413 502",
                body=s.PROMPT,
                links=_prompted_links(),
                description=f"{prompt_limit} A template applies to a first message only"
                " (409 after); an unknown one is a 404, and so is an unknown agent. Attachments"
                " are checked before anything is saved: a path outside the root, a missing,"
                " binary or unsupported file is a 400, a file or image over 5 MB a 413, each"
                " with a reason.",
            ),
        },
        "/sessions/{sid}/command": {
            "parameters": [_SID],
            "post": _op(
                "runCommand",
                "Run an opencode command with arguments (the first one creates the session)",
                ("202", r.PROMPTED),
                "404 409 410 502",
                body=s.COMMAND,
                description="Like a prompt: the answer streams on the stream socket. An"
                " unknown command or agent is a 404.",
            ),
        },
        "/sessions/{sid}/abort": {
            "parameters": [_SID],
            "post": _op(
                "abortAnswer", "Stop the answer in progress", ("200", r.ABORTED), "400 404"
            ),
        },
        "/sessions/{sid}/fork": {
            "parameters": [_SID],
            "post": _op(
                "forkSession",
                "Branch: a new session with the messages up to and"
                " including message_id (default all), continuing in an opencode fork",
                ("201", r.ONE_SESSION),
                "404 409 502",
                body=s.FORK,
                body_required=False,
                links=session_links,
            ),
        },
        "/sessions/{sid}/messages/{mid}": {
            "parameters": [_SID, _MID],
            "delete": _op(
                "rewindMessage",
                "Rewind: remove this message and every later one, here"
                " and in opencode; notebook_changes and file_changes name the removed answers"
                " whose notebook or file changes can still be undone",
                ("200", r.REWOUND),
                "400 404 409 502",
            ),
        },
        "/sessions/{sid}/messages/{mid}/edit": {
            "parameters": [_SID, _MID],
            "post": _op(
                "editMessage",
                "Edit and resend a user message in a new branch taken just"
                " before it (409 for other messages)",
                ("202", r.PROMPTED),
                "404 409 502",
                body=s.EDIT,
                links=session_links,
                description=prompt_limit,
            ),
        },
        "/sessions/{sid}/messages/{mid}/annotation": {
            "parameters": [_SID, _MID],
            "put": _op(
                "annotateMessage",
                "Rate a message and keep a note on it",
                ("200", r.ANNOTATED),
                "404",
                body=s.ANNOTATION,
            ),
        },
        "/sessions/{sid}/messages/{mid}/notebook-changes": {
            "parameters": [_SID, _MID],
            "get": _op(
                "listNotebookChanges",
                "The notebook changes an answer made and that are not undone (also once rewound)",
                ("200", r.NOTEBOOK_CHANGES),
                "400 404",
            ),
            "post": _op(
                "undoNotebookChanges",
                "Undo them: restore the cells; cells edited since are left and listed",
                ("200", r.UNDONE),
                "400 404 409",
            ),
        },
        "/sessions/{sid}/messages/{mid}/files": {
            "parameters": [_SID, _MID],
            "get": _op(
                "listFileChanges",
                "The files an answer's edit tools changed and that are not undone (also once"
                " rewound), with their diffs; shell commands' changes are not tracked",
                ("200", r.FILE_CHANGES),
                "400 404",
            ),
        },
        "/sessions/{sid}/messages/{mid}/files/undo": {
            "parameters": [_SID, _MID],
            "post": _op(
                "undoFileChanges",
                "Undo them: each file back as it was before the answer (a created one removed);"
                " files changed since are left and listed",
                ("200", r.FILES_UNDONE),
                "400 404 409",
            ),
        },
        "/sessions/{sid}/todo": {
            "parameters": [_SID],
            "get": _op(
                "getPlan",
                "The agent's plan (its todo list) as it now stands: each item's content, status"
                " (pending, in_progress, completed, cancelled) and priority",
                ("200", r.PLAN),
                "400 404",
            ),
        },
        "/sessions/{sid}/compact": {
            "parameters": [_SID],
            "post": _op(
                "compactSession",
                "Compaction: opencode summarizes the conversation and later prompts go on from"
                " the summary; answers the divider message (role system, content"
                ' "Conversation compacted", the summary in a part of kind compaction)',
                ("200", r.COMPACTED),
                "400 404 409 502",
            ),
        },
        "/sessions/{sid}/permissions/{pid}": {
            "parameters": [_SID, _path_param("pid", {"type": "string"}, "a pending request")],
            "post": _op(
                "answerPermission",
                "Answer a permission request of the agent",
                ("200", r.REPLIED),
                "404 502",
                body=s.PERMISSION_REPLY,
            ),
        },
        "/sessions/{sid}/questions/{qid}": {
            "parameters": [_SID, _path_param("qid", {"type": "string"}, "a waiting question")],
            "post": _op(
                "answerQuestion",
                "Answer a question of the agent (a list of labels per question), or dismiss it",
                ("200", r.ANSWERED),
                "400 404 409 502",
                body=s.QUESTION_REPLY,
            ),
        },
        "/sessions/{sid}/export": {
            "parameters": [_SID],
            "get": _op(
                "exportSession",
                "The session as a file (attachment named after its"
                " title); the JSON format is what sessions/import reads",
                ("200", _file(list(MEDIA_TYPES.values()))),
                "404",
                query=s.EXPORT_QUERY,
            ),
        },
        "/export": {
            "post": _op(
                "exportSessions",
                "A zip of one export per session",
                ("200", _file(["application/zip"])),
                "404",
                body=s.BULK_EXPORT,
            )
        },
        "/sessions/import": {
            "post": _op(
                "importSession",
                "A new session (fresh ids, marked imported) from a JSON export",
                ("201", r.ONE_SESSION),
                body=s.EXPORT_DOCUMENT,
                links=session_links,
                description=f"At most {max_import_bytes} bytes; every text must be"
                " valid Unicode (no lone surrogates).",
            ),
        },
        "/search": {
            "get": _op(
                "search",
                "Full-text search of messages, titles and notes, best"
                " first: words match by prefix, quoted phrases as phrases, and the"
                " query is always text, never search syntax",
                ("200", r.HITS),
                query=s.SEARCH_QUERY,
            )
        },
        "/templates": {
            "get": _op("listTemplates", "Every session template", ("200", r.TEMPLATES)),
            "post": _op(
                "saveTemplate",
                "Create or replace a template",
                ("201", r.TEMPLATE),
                body=s.TEMPLATE,
                links={
                    "deleteTemplate": {
                        "operationId": "deleteTemplate",
                        "parameters": {"name": "$response.body#/name"},
                    }
                },
            ),
        },
        "/templates/{name}": {
            "parameters": [_path_param("name", {"type": "string"}, "a template name")],
            "delete": _op("deleteTemplate", "Delete a template", ("204", None), "404"),
        },
        "/openapi.json": {"get": _op("getOpenAPI", "This document", ("200", r.OPENAPI))},
        "/notebook/mcp": {"post": _notebook_mcp()},
        "/stream": {
            "get": _websocket(
                "stream",
                "Subscribe to sessions and receive their chunks",
                _STREAM_FRAMES,
                s.STREAM_QUERY,
            )
        },
        "/notebook/live": {
            "get": _websocket(
                "notebookLive",
                "The labextension's open notebooks and the changes it applies",
                _LIVE_FRAMES,
            )
        },
    }


def openapi_document(
    base_url: str, max_message_bytes: int, max_import_bytes: int
) -> dict[str, Any]:
    """The OpenAPI document, with the server URL under this Jupyter server's base URL."""
    errors = {
        name: {"description": text, "content": {_JSON: {"schema": r.ERROR}}}
        for name, text in _ERRORS.values()
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "jupyter-opencode", "version": __version__},
        "servers": [{"url": f"{base_url.rstrip('/')}/opencode"}],
        "security": [{"token": []}],
        "tags": [{"name": WEBSOCKET_TAG, "description": "WebSocket upgrades, not JSON routes"}],
        "paths": paths(max_message_bytes, max_import_bytes),
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <Jupyter token>'; without it Jupyter answers 403",
                },
                "workerToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <the worker's own token>', in the worker's environment",
                },
            },
            "responses": errors,
        },
    }
