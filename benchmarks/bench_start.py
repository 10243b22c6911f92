"""Start: what the extension adds to server start; first chunk from a stopped worker."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    SRC,
    Figure,
    Server,
    Stream,
    is_final,
    is_text,
    main,
    median,
    write_model_config,
)
from jupyter_opencode.testing import FakeModelProcess, free_port
from jupyter_opencode.worker.adapter import OpencodeClient
from jupyter_opencode.worker.environment import ProviderChoice, worker_environment
from jupyter_opencode.worker.install import installed_opencode

STARTS = 5
ALONE = 2
STOP_TIMEOUT = 10.0
COLD_STARTS = 3
WARM_UPS = 3
SUBSCRIBED_FOR = 3.0
BENCH = "start"
_IMPORT = (
    "import sys, time; sys.path.insert(0, {src!r}); import jupyter_server.serverapp;"
    " t = time.perf_counter(); import jupyter_opencode.server.app; print(time.perf_counter() - t)"
)


@dataclass
class Cold:
    """Seconds from a prompt to a stopped worker: first text chunk, worker ready; then warm."""

    first: float
    ready: float
    warm: float


@dataclass
class Starts:
    """Wall and CPU seconds to the first 200 of ``GET api/status``, and servers that hung."""

    wall: list[float]
    cpu: list[float]
    hung: int = 0


def server_starts(tmp: Path) -> tuple[Starts, Starts]:
    """Servers started without and with the extension, interleaved, stopped at once."""
    plain, extended = Starts([], []), Starts([], [])
    for index in range(STARTS):
        for extension, starts in ((False, plain), (True, extended)):
            server = Server(tmp / f"start-{index}-{extension}", extension=extension, minimal=True)
            starts.wall.append(server.start())
            starts.cpu.append(server.cpu_at_start)
            starts.hung += not server.stop(STOP_TIMEOUT)
    return plain, extended


def import_seconds() -> list[float]:
    """Seconds to import the extension in a process that already imported jupyter_server."""
    code = _IMPORT.format(src=SRC)
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
        for _ in range(STARTS)
    ]
    return [float(run.stdout) for run in runs]


async def first_chunk(stream: Stream, sid: str, wait: float = 0.0) -> float:
    """Seconds from a prompt to its first text chunk; subscribes ``wait`` seconds before."""
    stream.send(type="subscribe", session_id=sid, after_seq=0)
    await asyncio.sleep(wait)
    start = len(stream.frames)
    sent = time.perf_counter()
    stream.send(type="prompt", session_id=sid, text="hello there")
    arrived = await stream.wait_for(is_text(sid), start, 90.0)
    await stream.wait_for(is_final(sid), start, 90.0)
    return arrived - sent


async def until_ready(server: Server) -> float:
    """The time the server first reports its worker ready."""
    while (await asyncio.to_thread(server.worker))["state"] != "ready":
        await asyncio.sleep(0.02)
    return time.perf_counter()


async def cold_start(tmp: Path, config: Path, home: Path, wait: float) -> Cold:
    """First chunk of the first prompt of a new server, then of a prompt to the ready worker."""
    with Server(tmp, config=config, home=home) as server:
        stream = await Stream.open(server)
        started = time.perf_counter()
        ready = asyncio.ensure_future(until_ready(server))
        try:
            cold = await first_chunk(stream, "bench-cold-1", wait)
            ready_in = await asyncio.wait_for(ready, 90.0) - started - wait
            warm = await first_chunk(stream, "bench-cold-2")
        finally:
            ready.cancel()
            stream.close()
    return Cold(cold, ready_in, warm)


async def healthy_and_warm(client: OpencodeClient) -> None:
    """Wait for opencode's health route, then load its providers (what the supervisor does)."""
    while not await client.health(timeout=0.3):
        await asyncio.sleep(0.05)
    await client.warm()


async def opencode_alone(tmp: Path, config: Path, home: Path) -> float:
    """Baseline: seconds for a bare ``opencode serve`` to answer health and load its providers."""
    password, port = secrets.token_urlsafe(16), free_port()
    choice = ProviderChoice(config, None, demo=False, description="benchmark")
    binary = installed_opencode()
    assert binary is not None, "the opencode worker is not installed"
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(binary), "serve", "--hostname", "127.0.0.1", "--port", str(port), cwd=tmp,
        env=worker_environment(home, password, choice), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = OpencodeClient(f"http://127.0.0.1:{port}", password)
    try:
        await asyncio.wait_for(healthy_and_warm(client), 60.0)
        return time.perf_counter() - started
    finally:
        client.close()
        proc.terminate()
        await proc.wait()


async def worker_starts(tmp: Path) -> list[Figure]:
    """Cold starts with an empty worker home, a used one, and after a client subscribed."""
    with FakeModelProcess() as model:
        config = write_model_config(tmp, model)
        home = tmp / "worker-home"
        empty = await cold_start(tmp / "cold-empty", config, home, 0.0)
        colds = [
            await cold_start(tmp / f"cold-{index}", config, home, 0.0)
            for index in range(COLD_STARTS)
        ]
        subscribed = [
            await cold_start(tmp / f"warm-up-{index}", config, home, SUBSCRIBED_FOR)
            for index in range(WARM_UPS)
        ]
        alone = [await opencode_alone(tmp, config, home) for _ in range(ALONE)]
    return [
        Figure(BENCH, "cold start -> first text chunk, used home", median([c.first for c in colds]),
               "s", 2.5, note=f"prompt sent with the subscribe, median of {COLD_STARTS}"),
        Figure(BENCH, "  of which prompt -> worker ready", median([c.ready for c in colds]), "s",
               note="state 'ready' in GET opencode/status"),
        Figure(BENCH, "  baseline: bare opencode serve -> health+providers", median(alone), "s",
               note=f"same binary, env and home, no Jupyter, median of {ALONE}"),
        Figure(BENCH, "cold start -> first text chunk, empty home", empty.first, "s",
               note=f"first start of a worker home, once; worker ready in {empty.ready:.2f} s"),
        Figure(BENCH, f"subscribed {SUBSCRIBED_FOR:.0f} s before -> first text chunk",
               median([c.first for c in subscribed]), "s", 0.5,
               note=f"warm-up on subscribe, median of {WARM_UPS}; worker ready"
               f" {median([c.ready for c in subscribed]):+.2f} s after the prompt"),
        Figure(BENCH, "ready worker -> first text chunk", median([c.warm for c in colds]), "s",
               note=f"baseline, median of {COLD_STARTS}"),
    ]  # fmt: skip


async def bench(tmp: Path) -> list[Figure]:
    """Run the start benchmarks."""
    plain, extended = server_starts(tmp)
    imports = import_seconds()
    cpu = (median(extended.cpu) - median(plain.cpu)) * 1000
    wall = (median(extended.wall) - median(plain.wall)) * 1000
    figures = [
        Figure(BENCH, "added to server start, CPU time", cpu, "ms", 50.0,
               note=f"server CPU until api/status 200: median {median(extended.cpu):.2f} s with vs"
               f" {median(plain.cpu):.2f} s without, {STARTS} starts each, no other extensions"),
        Figure(BENCH, "added to server start, wall time", wall, "ms", 50.0,
               note=f"median {median(extended.wall):.2f} s with vs {median(plain.wall):.2f} s"
               " without; noisy on a shared machine"),
        Figure(BENCH, "servers stopped right after start that hung", extended.hung, "", 0.0,
               note=f"with the extension, SIGTERM as soon as api/status answered, SIGKILL after"
               f" {STOP_TIMEOUT:.0f} s, of {STARTS} (without: {plain.hung})"),
        Figure(BENCH, "import of jupyter_opencode.server.app", median(imports) * 1000, "ms", 50.0,
               note=f"after jupyter_server is imported, median of {STARTS}"),
    ]  # fmt: skip
    return figures + await worker_starts(tmp)


if __name__ == "__main__":
    main(bench)
