"""The opencode worker killed again and again, and frozen: answers end, the worker comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any

import pytest

from jupyter_opencode.testing import expected_text

from .streams import Api, Opener, StreamClient, final, text_of, time_limit


@pytest.fixture
def fragile_worker(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Two restarts allowed; health checked twice a second."""
    jp_server_config["OpencodeExtension"]["restart_limit"] = 2
    jp_server_config["WorkerSupervisor"] = {"health_interval": 0.5, "kill_timeout": 1.0}
    return jp_server_config


async def _worker(api: Api) -> dict[str, Any]:
    status: dict[str, Any] = (await api.call("GET", "status"))[1]["worker"]
    return status


async def _until_state(api: Api, *states: str, timeout: float = 60.0) -> dict[str, Any]:
    async with time_limit(timeout):
        while (worker := await _worker(api))["state"] not in states:
            await asyncio.sleep(0.1)
    return worker


async def _interrupt(api: Api, stream: StreamClient, sid: str, sig: signal.Signals) -> str:
    """Start a slow answer, signal the worker once text flows; the answer's final message."""
    before = len(stream.frames)
    await api.prompt(sid, "[[slow:400:0.02]] long answer")
    await stream.until(lambda f: f.get("kind") == "text" and f["session_id"] == sid)
    pid = (await _worker(api))["pid"]
    assert pid is not None
    try:
        os.kill(pid, sig)
        message = (await stream.until(final(sid), timeout=90))[-1]["message"]
    finally:
        if sig == signal.SIGSTOP:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # never leave a frozen process behind
    assert message["status"] == "interrupted"
    streamed = text_of(stream.frames[before:], sid)
    assert streamed and message["content"] == streamed
    return str(message["error"])


async def test_worker_killed_three_times_gives_up_then_recovers(
    fragile_worker: dict[str, Any], api: Api, open_stream: Opener
) -> None:
    stream = await open_stream()
    sid = "fault-kill-3x"
    stream.subscribe(sid)
    for restarts in (1, 2):
        await _interrupt(api, stream, sid, signal.SIGKILL)
        worker = await _until_state(api, "ready")
        assert worker["restarts"] == restarts
    await _interrupt(api, stream, sid, signal.SIGKILL)
    worker = await _until_state(api, "failed")
    assert "gave up after 2 restarts" in worker["error"]
    text = "are you back?"
    await api.prompt(sid, text)  # the user retries: the worker starts afresh
    reply = (await stream.until(final(sid), timeout=90))[-1]["message"]
    assert reply["status"] == "complete" and reply["content"] == expected_text(text)
    assert (await _worker(api))["state"] == "ready"


async def test_frozen_worker_is_noticed_and_replaced(
    fragile_worker: dict[str, Any], api: Api, open_stream: Opener
) -> None:
    stream = await open_stream()
    sid = "fault-sigstop"
    stream.subscribe(sid)
    await api.prompt(sid, "warm up")
    await stream.until(final(sid), timeout=90)
    frozen = (await _worker(api))["pid"]
    error = await _interrupt(api, stream, sid, signal.SIGSTOP)
    assert "exited" in error
    worker = await _until_state(api, "ready")
    assert worker["pid"] != frozen
    text = "unfrozen?"
    await api.prompt(sid, text)
    reply = (await stream.until(final(sid), timeout=90))[-1]["message"]
    assert reply["status"] == "complete" and reply["content"] == expected_text(text)
