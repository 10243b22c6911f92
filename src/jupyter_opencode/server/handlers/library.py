"""Library routes: search, session filters and organizing, branches, rewind, notes, templates."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..library import LibraryService, NotAUserMessage, UnknownMessage
from ..service import SessionBusy
from ..store.library import SessionFilter
from ..store.search import EmptyQuery
from .base import OpencodeAPIHandler, int_arg, parse_prompt

MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 10_000
MAX_QUERY_CHARS = 1000
MAX_INSTRUCTIONS_CHARS = 20_000
RATINGS = ("up", "down", None)
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
AGENT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ORGANIZE_FIELDS = ("title", "starred", "archived", "tags")


def bad(message: str, reason: str) -> web.HTTPError:
    """A 400 with a message and a reason."""
    return web.HTTPError(400, message, reason=reason)


def organize_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The validated changes of ``PATCH sessions/{sid}``, or a 400 that says what is wrong."""
    unknown = sorted(set(body) - set(ORGANIZE_FIELDS))
    if unknown:
        raise bad(
            f"unknown field(s) {', '.join(unknown)}: a session takes " + ", ".join(ORGANIZE_FIELDS),
            "unknown_field",
        )
    if not body:
        raise bad("nothing to change: send any of " + ", ".join(ORGANIZE_FIELDS), "empty_patch")
    changes: dict[str, Any] = {}
    if "title" in body:
        title = body["title"]
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
            raise bad(
                f"'title' must be a non-empty string of at most {MAX_TITLE_CHARS} characters",
                "bad_title",
            )
        changes["title"] = title.strip()
    for flag in ("starred", "archived"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise bad(f"'{flag}' must be true or false", f"bad_{flag}")
            changes[flag] = int(body[flag])
    if "tags" in body:
        changes["tags"] = check_tags(body["tags"])
    return changes


def check_tags(tags: Any) -> list[str]:
    """A valid tag list (deduplicated, order kept), or a 400."""
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise bad(f"'tags' must be a list of at most {MAX_TAGS} tags", "bad_tags")
    clean: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= MAX_TAG_CHARS:
            raise bad(f"each tag must be a string of 1 to {MAX_TAG_CHARS} characters", "bad_tags")
        if tag.strip() not in clean:
            clean.append(tag.strip())
    return clean


def prompt_options(body: dict[str, Any], root_dir: str) -> tuple[str | None, str | None]:
    """(template, notebook_path) of a prompt, or a 400; notebooks under the root get root paths."""
    template, notebook = body.get("template"), body.get("notebook_path")
    if template is not None and not isinstance(template, str):
        raise bad("'template' must be a template name", "bad_template")
    if notebook is not None and (not isinstance(notebook, str) or len(notebook) > 4096):
        raise bad("'notebook_path' must be a path of at most 4096 characters", "bad_notebook_path")
    if notebook and os.path.isabs(notebook):
        relative = os.path.relpath(notebook, root_dir)
        notebook = notebook if relative.startswith("..") else Path(relative).as_posix()
    return template, notebook or None


def bool_arg(handler: OpencodeAPIHandler, name: str, default: bool | None) -> bool | None:
    """A true/false query argument ('all' or 'any': no filter), or a 400."""
    raw = handler.get_argument(name, None)
    if raw is None or raw == "":
        return default
    value = raw.lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    if value in ("all", "any"):
        return None
    raise bad(f"'{name}' must be true, false or all", f"bad_{name}")


def session_filter(handler: OpencodeAPIHandler) -> SessionFilter:
    """The filters of ``GET sessions``."""
    q = handler.get_argument("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise bad(f"'q' is longer than {MAX_QUERY_CHARS} characters", "bad_q")
    return SessionFilter(
        q=q.strip(),
        starred=bool_arg(handler, "starred", None),
        archived=bool_arg(handler, "archived", False),
        tag=handler.get_argument("tag", None) or None,
        notebook=handler.get_argument("notebook", None) or None,
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
        q = self.get_argument("q", "")
        if len(q) > MAX_QUERY_CHARS:
            raise bad(f"'q' is longer than {MAX_QUERY_CHARS} characters", "bad_q")
        limit = int_arg(self, "limit", 20, 1, 100)
        offset = _offset(self.get_argument("cursor", ""))
        try:
            hits = await self.library.library.search(q, limit + 1, offset)
        except EmptyQuery as e:
            raise bad("'q' must not be empty", "empty_query") from e
        more = len(hits) > limit
        cursor = _encode_offset(offset + limit) if more else None
        self.write_json({"hits": hits[:limit], "next_cursor": cursor})


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        offset = int(raw[1:]) if raw.startswith("o") else -1
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if not 0 <= offset <= 100_000:
        raise bad("'cursor' is not a cursor from this API", "bad_cursor")
    return offset


class MessageHandler(LibraryHandler):
    """``DELETE sessions/{sid}/messages/{mid}``: rewind."""

    kernel_methods = frozenset(("DELETE",))

    @web.authenticated
    @authorized
    async def delete(self, sid: str, mid: str) -> None:
        """Remove this message and every later one, here and in opencode's session."""
        await self.message_or_404(sid, mid)
        try:
            removed, changed = await self.library.rewind(sid, mid)
        except SessionBusy as e:
            raise busy_error(e, "stop it before rewinding") from e
        except UnknownMessage as e:
            raise web.HTTPError(404, f"no message {mid}", reason="unknown_message") from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        session = await self.session_or_404(sid)
        self.write_json({"removed": removed, "notebook_changes": changed, "session": session})


class EditHandler(LibraryHandler):
    """``POST sessions/{sid}/messages/{mid}/edit``."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str, mid: str) -> None:
        """Send an edited user message in a new branch taken just before it (202)."""
        await self.message_or_404(sid, mid)
        limit = self.settings["jupyter_opencode_app"].max_message_bytes
        text, model, _ = parse_prompt(self.json_body(), limit)
        try:
            result = await self.library.edit(sid, mid, text, model)
        except SessionBusy as e:
            raise busy_error(e, "stop it before editing") from e
        except UnknownMessage as e:
            raise web.HTTPError(404, f"no message {mid}", reason="unknown_message") from e
        except NotAUserMessage as e:
            raise bad("only user messages can be edited", "not_user_message") from e
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
        body = self.json_body()
        unknown = sorted(set(body) - {"rating", "note"})
        if unknown:
            raise bad(f"unknown field(s) {', '.join(unknown)}", "unknown_field")
        rating, note = body.get("rating"), body.get("note", "")
        if rating not in RATINGS:
            raise bad('\'rating\' must be "up", "down" or null', "bad_rating")
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            raise bad(f"'note' must be a string of at most {MAX_NOTE_CHARS} characters", "bad_note")
        await self.message_or_404(sid, mid)
        await self.library.library.annotate(sid, mid, rating, note)
        message = await self.service.store.get_message(mid)
        self.write_json({"message_id": mid, "annotation": (message or {}).get("annotation")})


def check_template(body: dict[str, Any]) -> dict[str, Any]:
    """A valid template ``{name, model?, agent?, instructions?}``, or a 400."""
    unknown = sorted(set(body) - {"name", "model", "agent", "instructions"})
    if unknown:
        raise bad(f"unknown field(s) {', '.join(unknown)}", "unknown_field")
    name = body.get("name")
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise bad(
            "'name' must be 1 to 64 letters, digits, spaces, '.', '_' or '-'", "bad_template_name"
        )
    model, agent, instructions = body.get("model"), body.get("agent"), body.get("instructions")
    if model is not None and (not isinstance(model, str) or "/" not in model):
        raise bad("'model' must look like 'provider/model'", "bad_model")
    if agent is not None and (not isinstance(agent, str) or not AGENT_NAME.match(agent)):
        raise bad("'agent' must be an opencode agent name, e.g. build or plan", "bad_agent")
    if instructions is not None and (
        not isinstance(instructions, str) or len(instructions) > MAX_INSTRUCTIONS_CHARS
    ):
        raise bad(
            f"'instructions' must be a string of at most {MAX_INSTRUCTIONS_CHARS} characters",
            "bad_instructions",
        )
    return {"name": name, "model": model, "agent": agent, "instructions": instructions or None}


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
        template = check_template(self.json_body())
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
