"""Export routes (one session in a format, or many as a zip) and the import of a JSON export."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..contract.schemas import BULK_EXPORT, EXPORT_QUERY, QUERY_TRUE
from ..export.importing import ImportRejected, import_session
from ..export.options import MEDIA_TYPES, ExportOptions, content_disposition
from ..export.pipeline import export_chunks, export_title, export_zip
from .base import OpencodeAPIHandler

_OPTIONS = ("timestamps", "context", "redact")


def _options(values: dict[str, Any]) -> ExportOptions:
    """Export options from checked values (query words or JSON booleans; missing: default)."""
    given = {
        name: value in QUERY_TRUE if isinstance(value, str) else value
        for name, value in values.items()
        if name in _OPTIONS and value is not None
    }
    return ExportOptions(**given)


class _Download(OpencodeAPIHandler):
    """Sends an export as an attachment, piece by piece."""

    async def send(self, chunks: AsyncIterator[bytes], media_type: str, disposition: str) -> None:
        """Write the pieces as they come; a client that went away ends the export."""
        self.set_header("Content-Type", media_type)
        self.set_header("Content-Disposition", disposition)
        self.set_header("Cache-Control", "no-store")
        try:
            async for chunk in chunks:
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            self.log.info("export download closed by the client")
            return
        await self.finish(set_content_type=media_type)


class ExportHandler(_Download):
    """``GET sessions/{sid}/export?format=&timestamps=&context=&redact=``."""

    kernel_methods = frozenset(("GET",))

    @web.authenticated
    @authorized
    async def get(self, sid: str) -> None:
        """One session as a file in the asked format."""
        args = self.query(EXPORT_QUERY)
        session = await self.session_or_404(sid)
        fmt, options = args["format"], _options(args)
        chunks = export_chunks(self.service.store, session, fmt, options)
        name = content_disposition(export_title(session, options), fmt)
        await self.send(chunks, MEDIA_TYPES[fmt], name)


class BulkExportHandler(_Download):
    """``POST export {"session_ids": [...], "format", "timestamps"?, "context"?, "redact"?}``."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """A zip holding one export per session."""
        body = self.checked_body(BULK_EXPORT)
        fmt, options = body["format"], _options(body)
        ids = list(dict.fromkeys(body["session_ids"]))
        sessions = [await self.service.store.get_session(sid) for sid in ids]
        missing = [sid for sid, session in zip(ids, sessions, strict=True) if session is None]
        if missing:
            raise web.HTTPError(404, f"no session {', '.join(missing)}", reason="unknown_session")
        name = f"conversations {time.strftime('%Y-%m-%d')}"
        chunks = export_zip(self.service.store, [s for s in sessions if s], fmt, options)
        await self.send(chunks, "application/zip", content_disposition(name, "zip"))


class ImportHandler(OpencodeAPIHandler):
    """``POST sessions/import`` with a JSON export as the body."""

    kernel_methods = frozenset(("POST",))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a new session (fresh ids, marked imported) from the export."""
        limit = self.settings["jupyter_opencode_app"].max_import_bytes
        try:
            session = await import_session(self.service.store, self.request.body, limit)
        except ImportRejected as e:
            raise web.HTTPError(400, str(e), reason=e.reason) from e
        self.write_json({"session": session}, status=201)
