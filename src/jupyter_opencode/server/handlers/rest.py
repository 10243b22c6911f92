"""REST routes: status, models, sessions, messages, abort, permissions, OpenAPI document."""

from __future__ import annotations

import base64
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..._version import __version__
from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..service import SessionBusy, UnknownPermission, UnknownSession
from .base import OpencodeAPIHandler, check_session_id, parse_prompt
from .openapi import openapi_document

PERMISSION_REPLIES = ("once", "always", "reject")


def _int_arg(handler: OpencodeAPIHandler, name: str, default: int, low: int, high: int) -> int:
    raw = handler.get_argument(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise web.HTTPError(
            400, f"'{name}' must be an integer from {low} to {high}", reason=f"bad_{name}"
        )
    return value


def _encode_cursor(session: dict[str, Any]) -> str:
    raw = json.dumps([session["updated_at"], session["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        updated_at, sid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(updated_at), str(sid)
    except (ValueError, TypeError) as e:
        raise web.HTTPError(
            400, "'cursor' is not a cursor from this API", reason="bad_cursor"
        ) from e


class StatusHandler(OpencodeAPIHandler):
    """``GET status``: package version and worker state."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The worker's state, without starting it."""
        app = self.settings["jupyter_opencode_app"]
        self.write_json(
            {
                "version": __version__,
                "worker": self.service.supervisor.status(),
                "demo": app.uses_demo_model(),
            }
        )


class ModelsHandler(OpencodeAPIHandler):
    """``GET models``: the models opencode offers, and the default one."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Ask the (lazily started) worker for its providers."""
        try:
            client = await self.service.supervisor.ready()
            providers = await client.providers()
        except (WorkerError, OpencodeError) as e:
            raise web.HTTPError(503, str(e), reason="worker_unavailable") from e
        models = [
            {"id": f"{p['id']}/{mid}", "name": str(m.get("name") or mid)}
            for p in providers.get("providers", [])
            for mid, m in (p.get("models") or {}).items()
        ]
        defaults = providers.get("default") or {}
        default = next((f"{p}/{m}" for p, m in defaults.items()), models[0]["id"] if models else "")
        self.write_json({"models": models, "default": default})


class SessionsHandler(OpencodeAPIHandler):
    """``GET sessions``: a page of sessions, most recent first."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List sessions after an optional cursor."""
        limit = _int_arg(self, "limit", 50, 1, 200)
        raw_cursor = self.get_argument("cursor", "")
        cursor = _decode_cursor(raw_cursor) if raw_cursor else None
        sessions = await self.service.store.list_sessions(limit + 1, cursor)
        more = len(sessions) > limit
        sessions = sessions[:limit]
        next_cursor = _encode_cursor(sessions[-1]) if more else None
        self.write_json({"sessions": sessions, "next_cursor": next_cursor})


class SessionHandler(OpencodeAPIHandler):
    """``GET|PATCH|DELETE sessions/{sid}``."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self, sid: str) -> None:
        """One session."""
        self.write_json(await self.session_or_404(sid))

    @web.authenticated
    @authorized
    async def patch(self, sid: str) -> None:
        """Rename a session."""
        body = self.json_body()
        title = body.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            raise web.HTTPError(
                400,
                "'title' must be a non-empty string of at most 200 characters",
                reason="bad_title",
            )
        await self.session_or_404(sid)
        await self.service.store.rename_session(sid, title.strip())
        self.write_json(await self.session_or_404(sid))

    @web.authenticated
    @authorized
    async def delete(self, sid: str) -> None:
        """Delete a session and everything in it."""
        await self.session_or_404(sid)
        if sid in self.service.turns:
            raise web.HTTPError(409, "the session is still answering: stop it first", reason="busy")
        await self.service.store.delete_session(sid)
        self.set_status(204)
        self.finish()


class MessagesHandler(OpencodeAPIHandler):
    """``GET|POST sessions/{sid}/messages``."""

    kernel_methods = frozenset(("GET", "POST"))

    @web.authenticated
    @authorized
    async def get(self, sid: str) -> None:
        """A page of messages, oldest first, ending before ``before``."""
        await self.session_or_404(sid)
        limit = _int_arg(self, "limit", 50, 1, 500)
        before = self.get_argument("before", None)
        if before is not None:
            message = await self.service.store.get_message(before)
            if message is None or message["session_id"] != sid:
                raise web.HTTPError(
                    400, f"no message {before} in this session", reason="bad_before"
                )
        messages, more, last_seq = await self.service.store.page_with_seq(sid, limit, before)
        self.write_json({"messages": messages, "has_more": more, "last_seq": last_seq})

    @web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """Send a prompt; the first one creates the session. Answers at once with 202."""
        check_session_id(sid)
        limit = self.settings["jupyter_opencode_app"].max_message_bytes
        text, model, context = parse_prompt(self.json_body(), limit)
        try:
            result = await self.service.prompt(sid, text, model, context)
        except SessionBusy as e:
            raise web.HTTPError(
                409, "the session is still answering the previous message", reason="busy"
            ) from e
        self.write_json(result, status=202)


class AbortHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/abort``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """Stop the answer in progress, if any."""
        await self.session_or_404(sid)
        self.write_json({"aborted": await self.service.abort(sid)})


class ForkHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/fork``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """Branch a session: a new session continues from a copy of this conversation."""
        await self.session_or_404(sid)
        try:
            session = await self.service.fork(sid)
        except SessionBusy as e:
            raise web.HTTPError(
                409, "the session is still answering: fork it when it is done", reason="busy"
            ) from e
        except UnknownSession as e:
            raise web.HTTPError(404, f"no session {sid}", reason="unknown_session") from e
        self.write_json({"session": session}, status=201)


class PermissionHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/permissions/{pid}``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str, pid: str) -> None:
        """Allow once, always, or reject what the agent asked to do."""
        await self.session_or_404(sid)
        reply = self.json_body().get("reply")
        if reply not in PERMISSION_REPLIES:
            raise web.HTTPError(
                400, "'reply' must be one of once, always, reject", reason="bad_reply"
            )
        try:
            await self.service.reply_permission(sid, pid, reply)
        except UnknownPermission as e:
            raise web.HTTPError(
                404, f"no pending permission request {pid}", reason="unknown_permission"
            ) from e
        except OpencodeError as e:
            raise web.HTTPError(502, str(e), reason="worker_error") from e
        self.write_json({"reply": reply})


class OpenAPIHandler(OpencodeAPIHandler):
    """``GET openapi.json``: the machine-readable description of these routes."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The OpenAPI document."""
        self.write_json(openapi_document(self.base_url))
