"""REST routes: status, models, sessions, messages, abort, permissions, questions, OpenAPI."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..._version import __version__
from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..contract.document import openapi_document
from ..contract.schemas import (
    FILES_QUERY,
    FORK,
    MESSAGES_QUERY,
    PERMISSION_REPLY,
    QUESTION_REPLY,
    SESSIONS_QUERY,
)
from ..library import TemplateError, UnknownAgent, UnknownMessage, UnknownTemplate
from ..questions import BadAnswers, QuestionAnswered, UnknownQuestion
from ..service import BUSY_PROMPT, SessionBusy, SessionDeleted, UnknownPermission, UnknownSession
from .base import OpencodeAPIHandler, check_session_id, parse_attachments, parse_prompt
from .library import organize_changes, prompt_options, session_filter, worker_error


def _encode_cursor(session: dict[str, Any]) -> str:
    """Where the next page starts: the last session's ``updated_at`` and id."""
    return f"{float(session['updated_at'])!r}~{session['id']}"


def _decode_cursor(cursor: str) -> tuple[float, str]:
    updated_at, sid = cursor.split("~", 1)  # the contract's pattern holds exactly one '~'
    return float(updated_at), sid


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
            {"id": f"{p['id']}/{mid}", "name": str(m.get("name") or mid), "images": takes_images(m)}
            for p in providers.get("providers", [])
            for mid, m in (p.get("models") or {}).items()
            if policy.allows_model(f"{p['id']}/{mid}")
        ]
        defaults = [f"{p}/{m}" for p, m in (providers.get("default") or {}).items()]
        first = models[0]["id"] if models else ""
        default = next((m for m in defaults if policy.allows_model(m)), first)
        self.write_json({"models": models, "default": default})


def takes_images(model: dict[str, Any]) -> bool:
    """Whether opencode sends images to this model (else it drops them)."""
    capabilities = model.get("capabilities") or {}
    return bool((capabilities.get("input") or {}).get("image") or capabilities.get("attachment"))


class FilesHandler(OpencodeAPIHandler):
    """``GET files?q=``: paths under the root for the composer's @ menu."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The best matches of the query."""
        args = self.query(FILES_QUERY)
        finder = self.settings["jupyter_opencode_files"]
        self.write_json({"files": await finder.find(args["q"], args["limit"])})


class SessionsHandler(OpencodeAPIHandler):
    """``GET sessions``: a page of sessions, most recent first, filtered."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List sessions after an optional cursor (q, starred, archived, tag, notebook)."""
        args = self.query(SESSIONS_QUERY)
        limit = args["limit"]
        cursor = _decode_cursor(args["cursor"]) if args["cursor"] else None
        filters = session_filter(args)
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
        if not await self.service.free(sid):
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
        args = self.query(MESSAGES_QUERY)
        await self.session_or_404(sid)
        limit, before = args["limit"], args["before"]
        if before is not None:
            message = await self.service.store.get_message(before)
            if message is None or message["session_id"] != sid:
                raise web.HTTPError(
                    404, f"no message {before} in this session", reason="unknown_message"
                )
        messages, more, last_seq = await self.service.store.page_with_seq(sid, limit, before)
        self.service.with_live_parts(sid, messages)
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
        attachments = await parse_attachments(body, self.settings["server_root_dir"])
        library = self.settings["jupyter_opencode_library"]
        try:
            result = await library.prompt(
                sid,
                text,
                model,
                context,
                notebook,
                template,
                agent=body.get("agent"),
                attachments=attachments,
            )
        except SessionBusy as e:
            raise web.HTTPError(409, BUSY_PROMPT, reason="busy") from e
        except SessionDeleted as e:
            raise web.HTTPError(410, str(e), reason=e.reason) from e
        except UnknownTemplate as e:
            raise web.HTTPError(404, str(e), reason="unknown_template") from e
        except UnknownAgent as e:
            raise web.HTTPError(404, str(e), reason="unknown_agent") from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        except TemplateError as e:
            raise web.HTTPError(409, str(e), reason="template_not_first") from e
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
        message_id = self.checked_body(FORK).get("message_id")
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
        reply = self.checked_body(PERMISSION_REPLY)["reply"]
        await self.session_or_404(sid)
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


class QuestionHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/questions/{qid}``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str, qid: str) -> None:
        """Answer what the agent asked (a list of labels per question), or dismiss it."""
        body = self.checked_body(QUESTION_REPLY)
        answers = None if body.get("reject") else body["answers"]
        await self.session_or_404(sid)
        try:
            await self.service.answer_question(sid, qid, answers)
        except UnknownQuestion as e:
            raise web.HTTPError(
                404, f"no question {qid} is waiting in this session", reason="unknown_question"
            ) from e
        except QuestionAnswered as e:
            raise web.HTTPError(
                409, f"question {qid} was answered already", reason="already_answered"
            ) from e
        except BadAnswers as e:
            raise web.HTTPError(400, str(e), reason="bad_answers") from e
        except OpencodeError as e:
            raise web.HTTPError(502, str(e), reason="worker_error") from e
        self.write_json({"answers": answers})


class OpenAPIHandler(OpencodeAPIHandler):
    """``GET openapi.json``: the machine-readable description of these routes."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The OpenAPI document."""
        app = self.settings["jupyter_opencode_app"]
        document = openapi_document(self.base_url, app.max_message_bytes, app.max_import_bytes)
        self.write_json(document)
