"""Export routes (one session in a format, or many as a zip) and the import of a JSON export."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..export.importing import ImportRejected, import_session
from ..export.options import FORMATS, MEDIA_TYPES, ExportOptions, content_disposition
from ..export.pipeline import export_chunks, export_title, export_zip
from .base import SESSION_ID, OpencodeAPIHandler

MAX_BULK = 500
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _format(value: Any) -> str:
    if value not in FORMATS:
        raise web.HTTPError(
            400, f"'format' must be one of {', '.join(FORMATS)}", reason="bad_format"
        )
    return str(value)


def _flag(name: str, value: Any, default: bool) -> bool:
    """A boolean option from a query string or JSON body, or a 400."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise web.HTTPError(400, f"'{name}' must be true or false", reason=f"bad_{name}")


def _options(get: Any) -> ExportOptions:
    defaults = ExportOptions()
    return ExportOptions(
        **{
            name: _flag(name, get(name), getattr(defaults, name))
            for name in ("timestamps", "context", "redact")
        }
    )


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
        session = await self.session_or_404(sid)
        fmt = _format(self.get_argument("format", "md"))
        options = _options(lambda name: self.get_argument(name, None))
        chunks = export_chunks(self.service.store, session, fmt, options)
        name = content_disposition(export_title(session, options), fmt)
        await self.send(chunks, MEDIA_TYPES[fmt], name)


class BulkExportHandler(_Download):
    """``POST export {"session_ids": [...], "format", "timestamps"?, "context"?, "redact"?}``."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """A zip holding one export per session."""
        body = self.json_body()
        ids = body.get("session_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_BULK
            or not all(isinstance(i, str) and SESSION_ID.match(i) for i in ids)
        ):
            raise web.HTTPError(
                400,
                f"'session_ids' must be a list of 1 to {MAX_BULK} session ids",
                reason="bad_session_ids",
            )
        fmt = _format(body.get("format"))
        options = _options(body.get)
        ids = list(dict.fromkeys(ids))
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
