"""``GET sessions/{sid}/todo`` (the agent's plan as it now stands) and ``POST
sessions/{sid}/compact``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...worker.adapter import OpencodeError
from ...worker.supervisor import WorkerError
from ..compaction import NothingToCompact, compact
from ..service import SessionBusy
from ..store.plan import latest_plan
from .base import OpencodeAPIHandler
from .library import busy_error, worker_error


class PlanHandler(OpencodeAPIHandler):
    """The todo list of the answer in progress, else of the newest answer that wrote one."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self, sid: str) -> None:
        """``{todos: [{content, status, priority}]}``; empty when the agent made no plan."""
        await self.session_or_404(sid)
        turn = self.service.turns.get(sid)
        todos = turn.todos if turn is not None else None
        if todos is None:
            todos = await latest_plan(self.service.store, sid)
        self.write_json({"todos": todos or []})


class CompactHandler(OpencodeAPIHandler):
    """``POST sessions/{sid}/compact``: opencode summarizes the conversation."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """The divider message "Conversation compacted" (with the summary) once it is done."""
        await self.session_or_404(sid)
        try:
            message = await compact(self.service, sid)
        except SessionBusy as e:
            raise busy_error(e, "compact it once the answer ends") from e
        except NothingToCompact as e:
            raise web.HTTPError(
                409, "nothing to compact yet: send a message first", reason="nothing_to_compact"
            ) from e
        except (WorkerError, OpencodeError) as e:
            raise worker_error(e) from e
        self.write_json({"message": message})
