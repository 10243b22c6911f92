"""The notebook tools as an MCP server: JSON-RPC messages in, answers out, no SDK.

The Jupyter server serves it over MCP's streamable HTTP transport (``notebook/mcp``), so the
worker connects to it at start without a process of its own to spawn. Only what an MCP client
of tools needs is spoken: ``initialize``, ``ping``, ``tools/list``, ``tools/call``, and
notifications (acknowledged, nothing to do).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .._version import __version__

APPROVAL_MINUTES = 10
INSTRUCTIONS = (
    "Notebooks (.ipynb) are changed only with these tools, never with file edits: a notebook"
    " may be open in the user's browser. `path` is relative to the Jupyter root; `cell` is a"
    " cell index or a cell id. Every change and run waits for the user's approval (up to"
    f" {APPROVAL_MINUTES} minutes, then it is rejected); each result shows the cell as re-read"
    " after the change. A rejected change was not made."
)
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")

_PATH = {"type": "string", "description": "the notebook's path relative to the Jupyter root"}
_CELL = {"anyOf": [{"type": "integer"}, {"type": "string"}], "description": "an index or a cell id"}
_INDEX = {"type": "integer"}
_SOURCE = {"type": "string"}


def _tool(name: str, description: str, required: dict[str, Any], **optional: Any) -> Any:
    schema = {"type": "object", "properties": {**required, **optional}, "required": [*required]}
    return {"name": name, "description": description, "inputSchema": schema}


TOOLS = [
    _tool("list_notebooks", "List the notebooks open in JupyterLab or with a running kernel.", {}),
    _tool(
        "read_notebook",
        "Read cells start..end (end excluded; all by default): index, id, type, source,"
        " execution count and outputs (long outputs are truncated with a marker; images are"
        " returned as images). Reads the open document when the notebook is open.",
        {"path": _PATH},
        start={"type": "integer", "default": 0},
        end={"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
    ),
    _tool(
        "insert_cell",
        "Insert a new cell (code, markdown or raw) at `index` (0 = first, number of cells ="
        " last). Needs the user's approval.",
        {"path": _PATH, "index": _INDEX, "source": _SOURCE},
        cell_type={"type": "string", "enum": ["code", "markdown", "raw"], "default": "code"},
    ),
    _tool(
        "edit_cell",
        "Replace the source of a cell (an index or a cell id). Needs the user's approval.",
        {"path": _PATH, "cell": _CELL, "source": _SOURCE},
    ),
    _tool(
        "delete_cell",
        "Delete a cell (an index or a cell id). Needs the user's approval.",
        {"path": _PATH, "cell": _CELL},
    ),
    _tool(
        "move_cell",
        "Move a cell (an index or a cell id) to position `index`. Needs the user's approval.",
        {"path": _PATH, "cell": _CELL, "index": _INDEX},
    ),
    _tool(
        "run_cell",
        "Run a code cell in the notebook's kernel, as if the user ran it (its outputs appear"
        " in the notebook), and return its outputs. Needs the user's approval.",
        {"path": _PATH, "cell": _CELL},
        timeout={"type": "number", "default": 60},
    ),
    _tool(
        "list_variables",
        "List the variables of the notebook's kernel: names, types, short summaries"
        " (DataFrames with shape and columns).",
        {"path": _PATH},
    ),
]
_NAMES = {tool["name"] for tool in TOOLS}

# Runs a tool: its MCP content (text, images), or an exception whose message the agent reads.
Call = Callable[[str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]
# Turns an exception of a tool call into the message the agent reads, None for a bug.
Explain = Callable[[Exception], "str | None"]


class RequestError(Exception):
    """A JSON-RPC error answer: ``code`` and ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    return {
        "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "jupyter", "version": __version__},
        "instructions": INSTRUCTIONS,
    }


async def _call_tool(params: dict[str, Any], call: Call, explain: Explain) -> dict[str, Any]:
    name, args = params.get("name"), params.get("arguments") or {}
    if name not in _NAMES or not isinstance(args, dict):
        raise RequestError(-32602, f"unknown tool {name!r} or arguments not an object")
    try:
        content = await call(str(name), args)
    except Exception as e:
        message = explain(e)
        if message is None:
            raise
        return {"content": [{"type": "text", "text": message}], "isError": True}
    return {"content": content, "isError": False}


async def _result(method: str, params: dict[str, Any], call: Call, explain: Explain) -> Any:
    if method == "initialize":
        return _initialize(params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        return await _call_tool(params, call, explain)
    raise RequestError(-32601, f"method not found: {method}")


async def answer(message: Any, call: Call, explain: Explain) -> dict[str, Any] | None:
    """The JSON-RPC answer to one message; None for a notification or a client's response."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(None, -32600, "not a JSON-RPC 2.0 message")
    if "id" not in message:
        return None  # a notification (initialized, cancelled, ...): nothing to do
    if "result" in message or "error" in message:
        return None  # the client's answer to a request of ours: we send none
    method, params = message.get("method"), message.get("params") or {}
    if not isinstance(method, str):
        return _error(message["id"], -32600, "a request needs a method")
    if not isinstance(params, dict):
        return _error(message["id"], -32602, "params must be an object")
    try:
        result = await _result(method, params, call, explain)
    except RequestError as e:
        return _error(message["id"], e.code, str(e))
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def _error(request_id: Any, code: int, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}}
