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
from ..library import TemplateError, UnknownMessage
from ..service import SessionBusy, UnknownPermission, UnknownSession
from .base import OpencodeAPIHandler, check_session_id, int_arg, parse_prompt
from .library import organize_changes, prompt_options, session_filter, worker_error
from .openapi import openapi_document

PERMISSION_REPLIES = ("once", "always", "reject")


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
        policy = self.settings["jupyter_opencode_app"].policy
        models = [
            {"id": f"{p['id']}/{mid}", "name": str(m.get("name") or mid)}
            for p in providers.get("providers", [])
            for mid, m in (p.get("models") or {}).items()
            if policy.allows_model(f"{p['id']}/{mid}")
        ]
        defaults = [f"{p}/{m}" for p, m in (providers.get("default") or {}).items()]
        first = models[0]["id"] if models else ""
        default = next((m for m in defaults if policy.allows_model(m)), first)
        self.write_json({"models": models, "default": default})


class SessionsHandler(OpencodeAPIHandler):
    """``GET sessions``: a page of sessions, most recent first, filtered."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List sessions after an optional cursor (q, starred, archived, tag, notebook)."""
        limit = int_arg(self, "limit", 50, 1, 200)
        raw_cursor = self.get_argument("cursor", "")
        cursor = _decode_cursor(raw_cursor) if raw_cursor else None
        filters = session_filter(self)
        sessions = await self.settings["jupyter_opencode_library"].library.list_sessions(
            limit + 1, cursor, filters
        )
        more = len(sessions) > limit
        sessions = sessions[:limit]
        next_cursor = _encode_cursor(sessions[-1]) if more else None
        self.write_json({"sessions": sessions, "next_cursor": next_cursor})


class SessionHandler(OpencodeAPIHandler):
    """``GET|PATCH|DELETE sessions/{sid}``."""

    # The panel renames, stars and tags its own conversation; deleting one is the user's alone.
    kernel_methods = frozenset(("GET", "PATCH"))

    @web.authenticated
    @authorized
    async def get(self, sid: str) -> None:
        """One session."""
        self.write_json(await self.session_or_404(sid))

    @web.authenticated
    @authorized
    async def patch(self, sid: str) -> None:
        """Organize a session: title, starred, archived, tags."""
        changes = organize_changes(self.json_body())
        await self.session_or_404(sid)
        await self.settings["jupyter_opencode_library"].library.organize(sid, changes)
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
        limit = int_arg(self, "limit", 50, 1, 500)
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
        body = self.json_body()
        text, model, context = parse_prompt(body, limit)
        template, notebook = prompt_options(body, self.settings["server_root_dir"])
        library = self.settings["jupyter_opencode_library"]
        try:
            result = await library.prompt(sid, text, model, context, notebook, template)
        except SessionBusy as e:
            raise web.HTTPError(
                409, "the session is still answering the previous message", reason="busy"
            ) from e
        except TemplateError as e:
            raise web.HTTPError(400, str(e), reason="bad_template") from e
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
        """Branch a session at a message (default: the last): a new session continues from it."""
        message_id = self.json_body().get("message_id")
        if message_id is not None and not isinstance(message_id, str):
            raise web.HTTPError(400, "'message_id' must be a string", reason="bad_message_id")
        await self.session_or_404(sid)
        try:
            session = await self.settings["jupyter_opencode_library"].fork(sid, message_id)
        except SessionBusy as e:
            raise web.HTTPError(
                409, "the session is still answering: fork it when it is done", reason="busy"
            ) from e
        except UnknownSession as e:
            raise web.HTTPError(404, f"no session {sid}", reason="unknown_session") from e
        except UnknownMessage as e:
            raise web.HTTPError(
                404, f"no message {message_id} in session {sid}", reason="unknown_message"
            ) from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
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
        if reply == "always" and not self.settings["jupyter_opencode_app"].policy.allows_always():
            reply = "once"  # the administrator's permission modes are not the user's to loosen
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
