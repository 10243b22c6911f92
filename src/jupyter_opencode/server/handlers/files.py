"""``sessions/{sid}/messages/{mid}/files``: the files an answer changed, and their undo."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..filechanges import UNTRACKED_NOTE, FileChangeTracker
from .base import OpencodeAPIHandler


class _FileChangesHandler(OpencodeAPIHandler):
    """Finds the answer (also one a rewind removed) and the tracker."""

    async def tracker(self, sid: str, mid: str) -> FileChangeTracker:
        """The tracker, once the answer is known in this session (else 404)."""
        await self.session_or_404(sid)
        tracker = self.service.files
        assert isinstance(tracker, FileChangeTracker)
        message = await self.service.store.get_message(mid)
        if message is None:  # rewound away: its changes are still there to undo
            known = await tracker.records.made_any(sid, mid)
        else:
            known = message["session_id"] == sid
        if not known:
            raise web.HTTPError(404, f"no message {mid} in this session", reason="unknown_message")
        return tracker


class FileChangesHandler(_FileChangesHandler):
    """``GET sessions/{sid}/messages/{mid}/files``: the changes not undone, with diffs."""

    @web.authenticated
    @authorized
    async def get(self, sid: str, mid: str) -> None:
        """The list, and the note that shell commands' changes are not in it."""
        tracker = await self.tracker(sid, mid)
        self.write_json({"changes": await tracker.listing(mid), "note": UNTRACKED_NOTE})


class FileUndoHandler(_FileChangesHandler):
    """``POST sessions/{sid}/messages/{mid}/files/undo``: put the files back."""

    @web.authenticated
    @authorized
    async def post(self, sid: str, mid: str) -> None:
        """Restore each file still as the answer left it; files changed since are named."""
        tracker = await self.tracker(sid, mid)
        try:
            self.write_json(await tracker.undo(mid))
        except OSError as e:
            raise web.HTTPError(409, f"undo failed: {e}", reason="undo_failed") from e
