"""Notebook tool routes: the worker's tool calls, the labextension's socket, undo."""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.auth.identity import User
from jupyter_server.base.call_context import CallContext
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import ensure_async
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ...notebook import mcp
from ...notebook.cells import ToolInputError
from ...notebook.live import LiveError
from ...notebook.tools import ChangeFailed, NotApproved
from .base import JSONErrors, OpencodeAPIHandler, require_upgrade

if TYPE_CHECKING:
    from ...notebook.tools import NotebookTools

WORKER_USER = User(username="jupyter-opencode-worker", name="opencode worker")


class _WorkerOnly(Authorizer):
    """Lets only the worker principal through: the tool routes are the worker's alone."""

    def is_authorized(self, handler: JupyterHandler, user: User, action: str, resource: str) -> Any:
        return user is WORKER_USER


def _tools(handler: JupyterHandler) -> NotebookTools:
    tools: NotebookTools = handler.settings["jupyter_opencode_notebook_tools"]
    return tools


def _tool_error(error: Exception) -> str | None:
    """What the agent reads of a failed tool call; None for a bug."""
    if isinstance(error, (ToolInputError, NotApproved)):
        return str(error)
    if isinstance(error, ChangeFailed):
        return f"the change did not land: {error}"
    if isinstance(error, LiveError):
        return f"the open notebook: {error}"
    return None


class NotebookMCPHandler(OpencodeAPIHandler):
    """``POST notebook/mcp``: the notebook tools over MCP (streamable HTTP), for the worker.

    Each POST carries one JSON-RPC message and is answered with JSON (no event stream, no
    MCP session: every call stands alone); a notification is accepted with 202.
    """

    @property
    def authorizer(self) -> Authorizer:
        """Only the worker holding its token."""
        return _WorkerOnly()

    async def prepare(self, **kwargs: Any) -> None:
        """Accept the worker token and nothing else (not Jupyter's, not the kernels')."""
        token = self.settings.get("jupyter_opencode_worker_token")
        header = self.request.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(header.encode(), f"token {token}".encode()):
            raise web.HTTPError(
                403, "notebook tools answer the opencode worker only", reason="forbidden"
            )
        CallContext.set(CallContext.JUPYTER_HANDLER, self)
        if not self.check_host():
            raise web.HTTPError(403)
        self.current_user = self._jupyter_current_user = WORKER_USER
        await self.settings["jupyter_opencode_app"].open()

    async def _run_tool(self, tool: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        return (await _tools(self).call(tool, args)).content()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Answer one JSON-RPC message."""
        try:
            message = json.loads(self.request.body or b"null")
        except (ValueError, RecursionError) as e:
            raise web.HTTPError(400, f"not JSON: {e}", reason="bad_json") from e
        reply = await mcp.answer(message, self._run_tool, _tool_error)
        if reply is None:
            self.set_status(202)
            self.finish()
        else:
            self.write_json(reply)


class NotebookUndoHandler(OpencodeAPIHandler):
    """``GET|POST sessions/{sid}/messages/{mid}/notebook-changes``: list or undo them."""

    async def _check(self, sid: str, mid: str) -> None:
        await self.session_or_404(sid)
        message = await self.service.store.get_message(mid)
        if message is None:  # rewound away: its changes are still there to undo
            known = await _tools(self).records.made_any(sid, mid)
        else:
            known = message["session_id"] == sid
        if not known:
            raise web.HTTPError(404, f"no message {mid} in this session", reason="unknown_message")

    @web.authenticated
    @authorized
    async def get(self, sid: str, mid: str) -> None:
        """The notebook changes of an answer that are not undone."""
        await self._check(sid, mid)
        records = await _tools(self).records.changes(mid)
        changes = [
            {"path": r["path"], "op": r["change"].op, "cell_id": r["change"].cell_id}
            for r in records
        ]
        self.write_json({"changes": changes})

    @web.authenticated
    @authorized
    async def post(self, sid: str, mid: str) -> None:
        """Undo them: restore the cells as they were before the answer changed them."""
        await self._check(sid, mid)
        try:
            self.write_json(await _tools(self).undo(mid))
        except (ToolInputError, LiveError, ChangeFailed) as e:
            raise web.HTTPError(409, f"undo failed: {e}", reason="undo_failed") from e


class LiveNotebookHandler(WebSocketMixin, WebSocketHandler, JSONErrors):
    """``WS notebook/live``: the labextension's open notebooks, and the changes it applies.

    Jupyter's own auth only: a kernel's token must not let it claim notebooks or see changes.
    """

    auth_resource = "opencode"

    async def pre_get(self) -> None:
        """Authorize before upgrading: this socket can change notebooks."""
        user = self.current_user
        if not await ensure_async(self.authorizer.is_authorized(self, user, "write", "opencode")):
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Upgrade to a WebSocket."""
        require_upgrade(self)
        await self.pre_get()
        await super().get(*args, **kwargs)

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Send one frame to the browser."""
        try:
            self.write_message(json.dumps(frame))
        except WebSocketClosedError:
            _tools(self).live.forget(self)

    def on_message(self, message: str | bytes) -> None:
        """``{type: open, paths}`` or ``{type: reply, id, result|error}``."""
        try:
            frame = json.loads(message)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            return
        if not isinstance(frame, dict):
            return
        live = _tools(self).live
        if frame.get("type") == "open" and isinstance(frame.get("paths"), list):
            live.set_open(self, [str(p) for p in frame["paths"] if isinstance(p, str)])
        elif frame.get("type") == "reply":
            live.answer(self, frame)

    def on_close(self) -> None:
        """The browser's notebooks are no longer open there."""
        _tools(self).live.forget(self)
