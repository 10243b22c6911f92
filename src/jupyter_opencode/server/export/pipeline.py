"""Running an export: messages read in batches, rendered off the event loop, sent as bytes."""

from __future__ import annotations

import asyncio
import importlib
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from tempfile import SpooledTemporaryFile
from typing import IO, Any, Protocol

from ..store import SessionStore
from .options import ExportOptions, file_name
from .redact import redact, redact_text

CHUNK = 64 * 1024
SPOOL = 8 * 1024 * 1024
"""Bytes of a built document (PDF, DOCX, notebook, zip) kept in memory before spilling to disk."""


class StreamRenderer(Protocol):
    """A format written as it is read: a head, messages batch by batch, a tail."""

    def head(self, session: dict[str, Any]) -> str: ...
    def messages(self, batch: list[dict[str, Any]]) -> str: ...
    def tail(self) -> str: ...


Builder = Callable[[dict[str, Any], Iterable[dict[str, Any]], ExportOptions, IO[bytes]], None]

# Each format as ``module:name``, imported by the first export in that format, in a worker
# thread: its libraries (markdown-it, Pygments, ReportLab, python-docx) never load at server
# start, nor on the event loop.
STREAMED = {
    "md": ".plain:MarkdownRenderer",
    "txt": ".plain:TextRenderer",
    "json": ".jsonfile:JsonRenderer",
    "html": ".html:HtmlRenderer",
}
BUILT = {"pdf": ".pdf:build_pdf", "docx": ".word:build_docx", "ipynb": ".notebook:build_notebook"}


def _load(target: str) -> Any:
    """The renderer class or builder named ``module:name`` (relative to this package)."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module, __package__), name)


def _renderer(fmt: str, options: ExportOptions) -> StreamRenderer:
    make: Callable[[ExportOptions], StreamRenderer] = _load(STREAMED[fmt])
    return make(options)


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
        renderer = await loop.run_in_executor(None, _renderer, fmt, options)
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
            build: Builder = await loop.run_in_executor(None, _load, BUILT[fmt])
            await loop.run_in_executor(None, build, session, messages, options, out)
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
