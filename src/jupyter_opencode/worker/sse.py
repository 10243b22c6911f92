"""opencode's server-sent events, read with httpx and httpx-sse.

A well-kept HTTP client instead of a hand-written one: it bounds connect and read times and
always releases its socket. ``benchmarks/bench_sse.py`` measures what it costs per event
against the rest of the pipeline (well under 5 % here). Both load with the first worker, not
with the Jupyter server: ``load_libraries`` runs in a thread while opencode starts.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

# opencode sends a heartbeat every 10 s: a stream silent for 30 s is dead.
READ_TIMEOUT = 30.0


class SSEError(Exception):
    """The event stream could not be opened or broke off."""


def load_libraries() -> None:
    """Import all that the event stream's first connection loads, off the server's loop."""
    # httpx loads its transport (httpcore, h11) with the first client and anyio's asyncio
    # backend with the first request: ~45 ms that blocked the loop on the first prompt's path.
    import httpcore  # noqa: F401
    import httpx  # noqa: F401
    import httpx_sse  # noqa: F401

    with contextlib.suppress(ImportError):  # anyio's own module: loaded ahead, if it is there
        import anyio._backends._asyncio  # noqa: F401


async def sse_batches(
    url: str,
    headers: dict[str, str],
    connect_timeout: float = 5.0,
    read_timeout: float = READ_TIMEOUT,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the JSON ``data:`` events of an SSE stream (a batch of one event each)."""
    import httpx
    from httpx_sse import SSEError as FormatError
    from httpx_sse import aconnect_sse

    timeout = httpx.Timeout(connect_timeout, read=read_timeout)
    try:
        async with (
            # Plain HTTP on loopback: no certificates to load (tens of ms on the server's loop).
            httpx.AsyncClient(timeout=timeout, trust_env=False, verify=False) as client,
            aconnect_sse(client, "GET", url, headers=headers) as source,
        ):
            if source.response.status_code != 200:
                raise SSEError(f"GET {url} answered {source.response.status_code}")
            async for event in source.aiter_sse():
                if event.data:
                    yield [json.loads(event.data)]
    except (httpx.HTTPError, FormatError) as e:
        raise SSEError(f"event stream of {url} failed: {e!r}") from e
