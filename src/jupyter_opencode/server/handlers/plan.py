"""``GET sessions/{sid}/todo``: the agent's plan as it now stands."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..store.plan import latest_plan
from .base import OpencodeAPIHandler


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
