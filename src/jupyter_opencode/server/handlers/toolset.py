"""REST routes of opencode's own toolset: its agents, its commands, running a command."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..contract.schemas import COMMAND
from ..library import UnknownAgent, UnknownCommand
from ..service import BUSY_PROMPT, SessionBusy, SessionDeleted
from .base import OpencodeAPIHandler, check_session_id
from .library import worker_error


class AgentsHandler(OpencodeAPIHandler):
    """``GET agents``: opencode's agents a user may pick or mention."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Name, description and mode (primary, subagent or all) of each agent not hidden."""
        try:
            agents = await self.settings["jupyter_opencode_library"].agents()
        except (WorkerError, OpencodeError) as e:
            raise web.HTTPError(503, str(e), reason="worker_unavailable") from e
        self.write_json({"agents": agents})


class CommandsHandler(OpencodeAPIHandler):
    """``GET commands``: opencode's commands (the user's, the project's, MCP prompts)."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Name, description and source of each command."""
        try:
            commands = await self.settings["jupyter_opencode_library"].commands()
        except (WorkerError, OpencodeError) as e:
            raise web.HTTPError(503, str(e), reason="worker_unavailable") from e
        self.write_json({"commands": commands})


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
