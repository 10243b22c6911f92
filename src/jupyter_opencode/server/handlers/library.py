"""Library routes: search, session filters and organizing, branches, rewind, notes, templates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..contract.schemas import (
    ANNOTATION,
    EDIT,
    FILTER_ALL,
    MAX_SEARCH_OFFSET,
    ORGANIZE,
    QUERY_TRUE,
    SEARCH_QUERY,
    TEMPLATE,
)
from ..library import LibraryService, NotAUserMessage, UnknownMessage
from ..service import SessionBusy
from ..store.library import SessionFilter
from .base import OpencodeAPIHandler, checked, parse_prompt


def organize_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The validated changes of ``PATCH sessions/{sid}``, or a 400 that says what is wrong."""
    checked(ORGANIZE, body)
    changes: dict[str, Any] = {}
    if "title" in body:
        changes["title"] = body["title"].strip()
    for flag in ("starred", "archived"):
        if flag in body:
            changes[flag] = int(body[flag])
    if "tags" in body:
        changes["tags"] = list(dict.fromkeys(tag.strip() for tag in body["tags"]))
    return changes


def prompt_options(body: dict[str, Any], root_dir: str) -> tuple[str | None, str | None]:
    """(template, notebook_path) of a checked prompt; notebooks under the root get root paths."""
    template, notebook = body.get("template"), body.get("notebook_path")
    if notebook and os.path.isabs(notebook):
        relative = os.path.relpath(notebook, root_dir)
        notebook = notebook if relative.startswith("..") else Path(relative).as_posix()
    return template, notebook or None


def _flag(value: str | None, default: bool | None) -> bool | None:
    """A checked true/false filter ('all' or 'any': no filter)."""
    if value is None:
        return default
    return None if value in FILTER_ALL else value in QUERY_TRUE


def session_filter(args: dict[str, Any]) -> SessionFilter:
    """The filters of ``GET sessions`` from its checked query."""
    return SessionFilter(
        q=args["q"].strip() if args["q"] else "",
        starred=_flag(args["starred"], None),
        archived=_flag(args["archived"], False),
        tag=args["tag"] or None,
        notebook=args["notebook"] or None,
    )


def busy_error(e: Exception, what: str) -> web.HTTPError:
    """The 409 of a session still answering."""
    return web.HTTPError(409, f"the session is still answering: {what}", reason="busy")


def worker_error(e: Exception) -> web.HTTPError:
    """The answer when opencode could not do its part."""
    if isinstance(e, WorkerError):
        return web.HTTPError(503, str(e), reason="worker_unavailable")
    return web.HTTPError(502, str(e), reason="worker_error")


class LibraryHandler(OpencodeAPIHandler):
    """Base of the library routes."""

    @property
    def library(self) -> LibraryService:
        """The library service of this server."""
        library: LibraryService = self.settings["jupyter_opencode_library"]
        return library

    async def message_or_404(self, sid: str, mid: str) -> dict[str, Any]:
        """A message of a session, or a 404."""
        await self.session_or_404(sid)
        message = await self.service.store.get_message(mid)
        if message is None or message["session_id"] != sid:
            raise web.HTTPError(404, f"no message {mid} in session {sid}", reason="unknown_message")
        return message


class SearchHandler(LibraryHandler):
    """``GET search?q=&limit=&cursor=``."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Hits best first, each with a plain-text snippet and the ranges to highlight in it."""
        args = self.query(SEARCH_QUERY)
        q, limit = args["q"], args["limit"]
        offset = int(args["cursor"] or 0)
        hits = await self.library.library.search(q, limit + 1, offset)
        more = len(hits) > limit and offset + limit <= MAX_SEARCH_OFFSET
        cursor = str(offset + limit) if more else None
        self.write_json({"hits": hits[:limit], "next_cursor": cursor})


class MessageHandler(LibraryHandler):
    """``DELETE sessions/{sid}/messages/{mid}``: rewind."""

    kernel_methods = frozenset(("DELETE",))

    @web.authenticated
    @authorized
    async def delete(self, sid: str, mid: str) -> None:
        """Remove this message and every later one, here and in opencode's session."""
        await self.message_or_404(sid, mid)
        try:
            removed, changed, files = await self.library.rewind(sid, mid)
        except SessionBusy as e:
            raise busy_error(e, "stop it before rewinding") from e
        except UnknownMessage as e:
            raise web.HTTPError(404, f"no message {mid}", reason="unknown_message") from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        session = await self.session_or_404(sid)
        self.write_json(
            {
                "removed": removed,
                "notebook_changes": changed,
                "file_changes": files,
                "session": session,
            }
        )


class EditHandler(LibraryHandler):
    """``POST sessions/{sid}/messages/{mid}/edit``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str, mid: str) -> None:
        """Send an edited user message in a new branch taken just before it (202)."""
        await self.message_or_404(sid, mid)
        limit = self.settings["jupyter_opencode_app"].max_message_bytes
        body = checked(EDIT, self.json_body())
        text, model, _ = parse_prompt(body, limit)
        try:
            result = await self.library.edit(sid, mid, text, model)
        except SessionBusy as e:
            raise busy_error(e, "stop it before editing") from e
        except UnknownMessage as e:
            raise web.HTTPError(404, f"no message {mid}", reason="unknown_message") from e
        except NotAUserMessage as e:
            raise web.HTTPError(
                409, "only user messages can be edited", reason="not_user_message"
            ) from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        self.write_json(result, status=202)


class AnnotationHandler(LibraryHandler):
    """``PUT sessions/{sid}/messages/{mid}/annotation``."""

    kernel_methods = frozenset(("PUT",))

    @web.authenticated
    @authorized
    async def put(self, sid: str, mid: str) -> None:
        """Rate a message up or down and keep a note on it (both empty: removed)."""
        body = self.checked_body(ANNOTATION)
        rating, note = body.get("rating"), body.get("note", "")
        await self.message_or_404(sid, mid)
        await self.library.library.annotate(sid, mid, rating, note)
        message = await self.service.store.get_message(mid)
        self.write_json({"message_id": mid, "annotation": (message or {}).get("annotation")})


class TemplatesHandler(LibraryHandler):
    """``GET|POST templates``."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every template."""
        self.write_json({"templates": await self.library.library.templates()})

    @web.authenticated
    @authorized
    async def post(self, *args: Any) -> None:
        """Create or replace a template (201)."""
        body = self.checked_body(TEMPLATE)
        template = {key: body.get(key) for key in ("name", "model", "agent", "instructions")}
        template["instructions"] = template["instructions"] or None
        await self.library.library.save_template(template)
        self.write_json(template, status=201)


class TemplateHandler(LibraryHandler):
    """``DELETE templates/{name}``."""

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        """Delete a template."""
        if not await self.library.library.delete_template(name):
            raise web.HTTPError(404, f"no template named {name!r}", reason="unknown_template")
        self.set_status(204)
        self.finish()
