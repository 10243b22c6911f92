"""Running an export: messages read in batches, rendered off the event loop, sent as bytes."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from tempfile import SpooledTemporaryFile
from typing import IO, Any, Protocol

from ..store import SessionStore
from .html import HtmlRenderer
from .jsonfile import JsonRenderer
from .notebook import build_notebook
from .options import ExportOptions, file_name
from .pdf import build_pdf
from .plain import MarkdownRenderer, TextRenderer
from .redact import redact, redact_text
from .word import build_docx

CHUNK = 64 * 1024
SPOOL = 8 * 1024 * 1024
"""Bytes of a built document (PDF, DOCX, notebook, zip) kept in memory before spilling to disk."""


class StreamRenderer(Protocol):
    """A format written as it is read: a head, messages batch by batch, a tail."""

    def head(self, session: dict[str, Any]) -> str: ...
    def messages(self, batch: list[dict[str, Any]]) -> str: ...
    def tail(self) -> str: ...


Builder = Callable[[dict[str, Any], Iterable[dict[str, Any]], ExportOptions, IO[bytes]], None]

STREAMED: dict[str, Callable[[ExportOptions], StreamRenderer]] = {
    "md": MarkdownRenderer,
    "txt": TextRenderer,
    "json": JsonRenderer,
    "html": HtmlRenderer,
}
BUILT: dict[str, Builder] = {"pdf": build_pdf, "docx": build_docx, "ipynb": build_notebook}


def _prepare(messages: list[dict[str, Any]], options: ExportOptions) -> list[dict[str, Any]]:
    """Messages as the options want them: without context, with secrets redacted."""
    if not options.context:
        messages = [{**m, "context": []} for m in messages]
    return redact(messages) if options.redact else messages


def export_title(session: dict[str, Any], options: ExportOptions) -> str:
    """The title an export's file is named after (redacted when the content is)."""
    title = str(session.get("title") or "")
    return redact_text(title) if options.redact else title


async def _session(store: SessionStore, session: dict[str, Any], options: ExportOptions) -> Any:
    full = {**session, "settings": await store.session_settings(session["id"])}
    return redact(full) if options.redact else full


async def export_chunks(
    store: SessionStore, session: dict[str, Any], fmt: str, options: ExportOptions
) -> AsyncIterator[bytes]:
    """The bytes of one session's export, in pieces; only PDF, DOCX and notebooks are built
    whole (in a spooled file) before they are sent."""
    loop = asyncio.get_running_loop()
    session = await _session(store, session, options)
    if fmt in STREAMED:
        renderer = STREAMED[fmt](options)
        yield renderer.head(session).encode()
        async for batch in store.message_batches(session["id"]):
            text = await loop.run_in_executor(None, renderer.messages, _prepare(batch, options))
            yield text.encode()
        yield renderer.tail().encode()
        return
    batches = store.message_batches(session["id"])
    messages = _pulled(batches, options, loop)
    with SpooledTemporaryFile(SPOOL) as out:
        try:
            await loop.run_in_executor(None, BUILT[fmt], session, messages, options, out)
        finally:
            await batches.aclose()
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk


def _pulled(
    batches: AsyncGenerator[list[dict[str, Any]], None],
    options: ExportOptions,
    loop: asyncio.AbstractEventLoop,
) -> Iterator[dict[str, Any]]:
    """Messages for a builder thread, each batch read from the store (on the loop) only when
    the builder reaches it: the messages are never all in memory beside the document."""

    async def next_batch() -> list[dict[str, Any]] | None:
        return await anext(batches, None)

    while (batch := asyncio.run_coroutine_threadsafe(next_batch(), loop).result()) is not None:
        yield from _prepare(batch, options)


async def export_zip(
    store: SessionStore, sessions: list[dict[str, Any]], fmt: str, options: ExportOptions
) -> AsyncIterator[bytes]:
    """A zip of one export per session (names made unique), streamed from a spooled file."""
    used: set[str] = set()
    with SpooledTemporaryFile(SPOOL) as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for session in sessions:
                name = _unique(file_name(export_title(session, options), fmt), used)
                with archive.open(name, "w", force_zip64=True) as entry:
                    async for chunk in export_chunks(store, session, fmt, options):
                        entry.write(chunk)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk


def _unique(name: str, used: set[str]) -> str:
    stem, _, extension = name.rpartition(".")
    candidate, number = name, 1
    while candidate.lower() in used:
        number += 1
        candidate = f"{stem} ({number}).{extension}"
    used.add(candidate.lower())
    return candidate
