"""REST routes of opencode's own toolset: its agents, its commands, running a command."""

from __future__ import annotations

from typing import Literal

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..contract.schemas import COMMAND
from ..library import UnknownAgent, UnknownCommand
from ..service import BUSY_PROMPT, SessionBusy, SessionDeleted
from .base import OpencodeAPIHandler, check_session_id
from .library import worker_error


class _ListingHandler(OpencodeAPIHandler):
    """``GET {listing}``: one of opencode's lists, read from the worker."""

    kernel_methods = frozenset(("GET",))
    listing: Literal["agents", "commands"]

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The list, as ``{listing: [...]}``; 503 when the worker cannot answer."""
        library = self.settings["jupyter_opencode_library"]
        try:
            items = await getattr(library, self.listing)()
        except (WorkerError, OpencodeError) as e:
            raise web.HTTPError(503, str(e), reason="worker_unavailable") from e
        self.write_json({self.listing: items})


class AgentsHandler(_ListingHandler):
    """``GET agents``: name, description and mode of each agent a user may pick or mention."""

    listing = "agents"


class CommandsHandler(_ListingHandler):
    """``GET commands``: name, description and source of opencode's commands."""

    listing = "commands"


class CommandHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/command``: run an opencode command, answered like a prompt."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """Run a command; the first one creates the session. Answers at once with 202."""
        check_session_id(sid)
        body = self.checked_body(COMMAND)
        library = self.settings["jupyter_opencode_library"]
        try:
            result = await library.run_command(
                sid, body["command"], body.get("arguments") or "", body.get("model"),
                body.get("agent"),
            )  # fmt: skip
        except UnknownCommand as e:
            raise web.HTTPError(404, str(e), reason="unknown_command") from e
        except UnknownAgent as e:
            raise web.HTTPError(404, str(e), reason="unknown_agent") from e
        except SessionBusy as e:
            raise web.HTTPError(409, BUSY_PROMPT, reason="busy") from e
        except SessionDeleted as e:
            raise web.HTTPError(410, str(e), reason=e.reason) from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        self.write_json(result, status=202)
