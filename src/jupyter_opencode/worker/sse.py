"""A lean server-sent-events reader over HTTP/1.1, yielding every event a read brings at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

_READ_SIZE = 1 << 16


class SSEError(Exception):
    """The event stream could not be opened or broke off."""


class _Chunked:
    """Incremental decoder of ``Transfer-Encoding: chunked``."""

    def __init__(self) -> None:
        self._raw = b""
        self._left = 0
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Decode what ``data`` completes; keep the rest for the next call."""
        self._raw += data
        out = []
        while self._raw:
            if self._left:
                piece = self._raw[: self._left]
                out.append(piece)
                self._left -= len(piece)
                self._raw = self._raw[len(piece) :]
                continue
            end = self._raw.find(b"\r\n")
            if end < 0:
                break
            line, rest = self._raw[:end], self._raw[end + 2 :]
            if not line:  # the CRLF that closes a chunk
                self._raw = rest
                continue
            size = int(line.split(b";", 1)[0], 16)
            if size == 0:
                self.done = True
                break
            self._left, self._raw = size, rest
        return b"".join(out)


async def _open(url: str, headers: dict[str, str]) -> tuple[asyncio.StreamReader, Any, bool]:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    lines = [f"GET {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    status = await reader.readline()
    if not status.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise SSEError(f"GET {parts.path} answered {status.decode(errors='replace').strip()}")
    chunked = False
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    return reader, writer, chunked


async def sse_batches(
    url: str, headers: dict[str, str], connect_timeout: float = 5.0
) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the JSON ``data:`` events of an SSE stream, a batch per network read."""
    try:
        reader, writer, chunked = await asyncio.wait_for(_open(url, headers), connect_timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise SSEError(f"cannot open {url}: {e}") from e
    decoder = _Chunked() if chunked else None
    buffer = b""
    try:
        while data := await reader.read(_READ_SIZE):
            buffer += decoder.feed(data) if decoder else data
            *lines, buffer = buffer.split(b"\n")
            events = [json.loads(line[5:]) for line in lines if line.startswith(b"data:")]
            if events:
                yield events
            if decoder and decoder.done:
                return
    except OSError as e:
        raise SSEError(f"event stream broke off: {e}") from e
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
