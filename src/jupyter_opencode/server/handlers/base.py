"""Authentication shared by every route: Jupyter's own, or the per-server token given to kernels."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from http.client import responses
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from jupyter_server.base.call_context import CallContext
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from tornado import web

from ..attachments import AttachmentError, resolve
from ..contract.schemas import PROMPT, SESSION_ID_PATTERN
from ..contract.validation import Invalid, Param, check, query_values
from ..policy import ModelNotAllowed

if TYPE_CHECKING:
    from ..service import ChatService

SESSION_ID = re.compile(SESSION_ID_PATTERN)
KERNEL_USER = User(username="jupyter-opencode-kernel", name="Notebook kernel")


class _KernelAwareAuthorizer(Authorizer):
    """Lets the kernel principal through; asks the server's authorizer about everyone else."""

    def __init__(self, inner: Authorizer) -> None:
        self.inner = inner

    def is_authorized(self, handler: JupyterHandler, user: User, action: str, resource: str) -> Any:
        if user is KERNEL_USER:
            return True
        return self.inner.is_authorized(handler, user, action, resource)


class KernelTokenAuth(JupyterHandler):
    """Accepts ``Authorization: token <JUPYTER_OPENCODE_TOKEN>`` besides Jupyter's own auth."""

    auth_resource = "opencode"
    # The HTTP methods of this route a kernel needs; the kernel token opens nothing else.
    kernel_methods: frozenset[str] = frozenset()

    @property
    def service(self) -> ChatService:
        """The chat service of this server."""
        service: ChatService = self.settings["jupyter_opencode_service"]
        return service

    @property
    def authorizer(self) -> Authorizer:
        """The server's authorizer, except for kernels holding the opencode token."""
        return _KernelAwareAuthorizer(super().authorizer)

    def _is_kernel(self) -> bool:
        token = self.settings.get("jupyter_opencode_kernel_token")
        header = self.request.headers.get("Authorization", "")
        return bool(token) and hmac.compare_digest(header.encode(), f"token {token}".encode())

    async def prepare(self, **kwargs: Any) -> None:
        """Authenticate kernels by their token; everyone else the Jupyter way."""
        if self._is_kernel():
            CallContext.set(CallContext.JUPYTER_HANDLER, self)
            if not self.check_host():
                raise web.HTTPError(403)
            if self.request.method not in self.kernel_methods:
                raise web.HTTPError(
                    403, "the kernel token does not open this route", reason="kernel_not_allowed"
                )
            self.current_user = self._jupyter_current_user = KERNEL_USER
        else:
            await super().prepare(**kwargs)
        await self.settings["jupyter_opencode_app"].open()


_METHODS = ("get", "post", "put", "patch", "delete")


def allowed_methods(handler: type[web.RequestHandler]) -> list[str]:
    """The HTTP methods a handler class answers (its own, not tornado's 405 stubs)."""
    return [
        m.upper() for m in _METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)
    ]


class JSONErrors(JupyterHandler):
    """Errors as ``{message, reason}`` (Jupyter's own 403s too); a 405 lists what is allowed."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The error as JSON, with a reason even for Jupyter's own 403s."""
        error = kwargs.get("exc_info", (None, None))[1]
        message = responses.get(status_code, "Unknown HTTP Error")
        reason = message.lower().replace(" ", "_")
        if isinstance(error, web.HTTPError):
            message = error.log_message or message
            reason = (
                error.reason
                if error.reason and error.reason != responses.get(status_code)
                else reason
            )
        elif isinstance(error, ModelNotAllowed):
            self.set_status(403)
            message, reason = str(error), "model_not_allowed"
        elif isinstance(error, sqlite3.Error):
            # The database is locked or full: the request may succeed later, nothing was saved.
            self.set_status(503)
            message, reason = f"the session database cannot be used now: {error}", "store_busy"
        elif error is not None:
            message, reason = "internal error", "internal_error"
        if status_code == 405:
            self.set_header("Allow", ", ".join(allowed_methods(type(self))))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": reason}))


def require_upgrade(handler: JupyterHandler) -> None:
    """A JSON 400 for a plain request to a WebSocket route (tornado answers it in text)."""
    if handler.request.headers.get("Upgrade", "").lower() != "websocket":
        raise web.HTTPError(
            400, "this route is a WebSocket: connect with an upgrade", reason="not_websocket"
        )


class OpencodeAPIHandler(KernelTokenAuth, JSONErrors, APIHandler):
    """Base of the REST routes: JSON in, JSON out, errors as ``{message, reason}``."""

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 that says what is wrong."""
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, RecursionError) as e:
            raise web.HTTPError(
                400,
                f"request body is not valid JSON (or nested too deeply): {e}",
                reason="bad_json",
            ) from e
        if not isinstance(body, dict):
            raise web.HTTPError(400, "request body must be a JSON object", reason="bad_json")
        return body

    def checked_body(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """The request body, valid for its schema of the contract, or a 400."""
        return checked(schema, self.json_body())

    def query(self, params: Sequence[Param]) -> dict[str, Any]:
        """The query parameters of the contract, typed and defaulted, or a 400."""
        try:
            return query_values(params, self.request.query_arguments)
        except Invalid as e:
            raise web.HTTPError(400, str(e), reason=e.reason) from e

    def options(self, *args: Any, **kwargs: Any) -> None:
        """CORS preflight, listing the methods of this route."""
        self.set_header("Allow", ", ".join(allowed_methods(type(self))))
        super().options(*args, **kwargs)

    async def session_or_404(self, sid: str) -> dict[str, Any]:
        """The session with this id, or a 400 (malformed id) or 404 (no such session)."""
        session = await self.service.store.get_session(check_session_id(sid))
        if session is None:
            raise web.HTTPError(404, f"no session {sid}", reason="unknown_session")
        return session

    def write_json(self, data: Any, status: int = 200) -> None:
        """Send a JSON answer."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))


def check_session_id(sid: str) -> str:
    """A client-chosen session id, or a 400."""
    if not SESSION_ID.match(sid):
        raise web.HTTPError(
            400,
            "session id must be 8 to 64 characters of letters, digits, '-' or '_'",
            reason="bad_session_id",
        )
    return sid


def checked(schema: Mapping[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if valid for a schema of the contract, else a 400 that says what is wrong."""
    try:
        return check(schema, value)
    except Invalid as e:
        raise web.HTTPError(400, str(e), reason=e.reason) from e


def parse_prompt(
    body: dict[str, Any], max_bytes: int
) -> tuple[str, str | None, list[dict[str, str]]]:
    """(text, model, context) of a prompt, or a 400 that says what is wrong."""
    checked(PROMPT, body)
    text, model, context = body["text"], body.get("model"), body.get("context") or []
    size = len(text.encode()) + sum(len(item["text"].encode()) for item in context)
    if size > max_bytes:
        raise web.HTTPError(
            400,
            f"message is {size} bytes with its context; the limit is {max_bytes} bytes",
            reason="message_too_large",
        )
    items = [{"kind": i["kind"], "label": i["label"], "text": i["text"]} for i in context]
    return text, model, items


async def parse_attachments(body: dict[str, Any], root: str) -> list[dict[str, Any]]:
    """The checked attachments of a (valid) prompt, or a 400/413 that says which and why."""
    try:
        return await asyncio.to_thread(resolve, body.get("attachments") or [], root)
    except AttachmentError as e:
        raise web.HTTPError(e.status, str(e), reason=e.reason) from e
