"""Start: what the extension adds to Jupyter's start, and its first answers against opencode's own.

Three targets, each a ratio or difference against a baseline measured in the same run:

- ``ServerApp.initialize`` with the extension minus with it switched off (min of 5 each,
  alternating, each in a fresh process): at most 100 ms.
- Cold first answer: a prompt sent to a server whose worker is stopped, to its first text
  chunk, against bare ``opencode serve`` from spawn to its first text delta (same opencode
  config, fresh homes, alternating, median of 7): at most 1.0x. The same config is the one
  the worker runs with: the config file and what the extension lays over it (the notebook
  tools' MCP server, their instructions and permissions), read from a reference server's
  worker, whose MCP server also answers bare opencode's. Bare opencode with the config file
  alone, which has no MCP server to connect to, is shown beside it.
- A client that subscribed 5 s before its first prompt: its first chunk against the first
  chunk of a prompt to the warm worker of the same server (median of 3): at most 1.5x.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    SRC,
    Figure,
    LoopEvents,
    Server,
    Stream,
    is_final,
    is_text,
    main,
    median,
    write_model_config,
)
from jupyter_opencode.testing import FakeModelProcess
from jupyter_opencode.worker.adapter import OpencodeClient
from jupyter_opencode.worker.environment import ProviderChoice, worker_environment
from jupyter_opencode.worker.install import installed_opencode

BENCH = "start"
INITIALIZES = 5
STARTS = 3
STOP_TIMEOUT = 10.0
COLD = 7
SUBSCRIBED = 3
SUBSCRIBED_FOR = 5.0
_LISTENING = re.compile(rb"listening on (http://\S+)")
_INITIALIZE = """
import sys, time
sys.path.insert(0, {src!r})
from jupyter_server.serverapp import ServerApp
app = ServerApp()
started, cpu = time.perf_counter(), time.process_time()
app.initialize(argv=sys.argv[1:])
print(time.perf_counter() - started, time.process_time() - cpu)
"""
_IMPORT = (
    "import sys, time; sys.path.insert(0, {src!r}); import jupyter_server.serverapp;"
    " t = time.perf_counter(); import jupyter_opencode.server.app; print(time.perf_counter() - t)"
)


def _isolated(tmp: Path) -> dict[str, str]:
    """An environment with no Jupyter config but ours and every Jupyter directory in ``tmp``.

    Bytecode is cached (under ``tmp``, never in the source tree), as it is for an installed
    wheel: compiling the extension's sources at every start is no cost users pay.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **env,
        "PYTHONPYCACHEPREFIX": str(tmp.parent / "pycache"),
        "JUPYTER_NO_CONFIG": "1",
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }


def initialize_seconds(tmp: Path, extension: bool) -> tuple[float, float]:
    """Wall and CPU seconds of ``ServerApp.initialize`` in a fresh process, with or without the
    extension (CPU time is what a busy shared machine changes least)."""
    tmp.mkdir(parents=True)
    argv = [
        f"--ServerApp.jpserver_extensions={{'jupyter_opencode': {extension}}}",
        f"--ServerApp.root_dir={tmp}", f"--OpencodeExtension.db_path={tmp / 'sessions.db'}",
        "--port=0",
    ]  # fmt: skip
    code = _INITIALIZE.format(src=SRC)
    run = subprocess.run(
        [sys.executable, "-c", code, *argv], env=_isolated(tmp), capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    wall, cpu = run.stdout.split()[-2:]
    return float(wall), float(cpu)


def server_initializes(tmp: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``ServerApp.initialize`` without and with the extension, alternating."""
    plain: list[tuple[float, float]] = []
    extended: list[tuple[float, float]] = []
    initialize_seconds(tmp / "init-compile", True)  # fills the bytecode cache
    for index in range(INITIALIZES):
        plain.append(initialize_seconds(tmp / f"init-{index}-off", False))
        extended.append(initialize_seconds(tmp / f"init-{index}-on", True))
    return plain, extended


def import_seconds(tmp: Path) -> list[float]:
    """Seconds to import the extension in a process that already imported jupyter_server."""
    code = _IMPORT.format(src=SRC)
    env = _isolated(tmp / "import")
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, check=True, text=True
        )
        for _ in range(INITIALIZES)
    ]
    return [float(run.stdout) for run in runs]


def stops_that_hung(tmp: Path) -> int:
    """Servers with the extension stopped as soon as they answered that did not stop in time."""
    hung = 0
    for index in range(STARTS):
        server = Server(tmp / f"stop-{index}", minimal=True)
        server.start()
        hung += not server.stop(STOP_TIMEOUT)
    return hung


@dataclass
class Answer:
    """Seconds to a first text chunk (cold or after subscribing), then from a warm worker."""

    first: float
    warm: float


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


async def through_jupyter(tmp: Path, config: Path, home: Path, wait: float) -> Answer:
    """The first prompt of a new server (worker stopped), then a prompt to its warm worker."""
    with Server(tmp, config=config, home=home) as server:
        stream = await Stream.open(server)
        try:
            first = await first_chunk(stream, "bench-first", wait)
            warm = await first_chunk(stream, "bench-warm")
        finally:
            stream.close()
    return Answer(first, warm)


async def _until_healthy(client: OpencodeClient) -> None:
    while await client.health(timeout=0.25) is None:
        await asyncio.sleep(0.02)


async def worker_overlay(server: Server) -> dict[str, object]:
    """What the extension lays over the config file for its worker (the worker is started)."""
    stream = await Stream.open(server)
    try:
        await first_chunk(stream, "bench-reference")
    finally:
        stream.close()
    environ = Path(f"/proc/{server.worker()['pid']}/environ").read_bytes().split(b"\0")
    content = next(
        v for k, _, v in (e.partition(b"=") for e in environ) if k == b"OPENCODE_CONFIG_CONTENT"
    )
    overlay: dict[str, object] = json.loads(content)
    return overlay


async def bare_opencode(
    root: Path, config: Path, home: Path, overlay: dict[str, object] | None
) -> float:
    """Baseline: seconds from spawning ``opencode serve`` to the first text delta of a prompt.

    A good client of opencode alone: it reads the listening line, polls health at a short
    interval, opens the event stream while it creates the session, then prompts.
    """
    binary = installed_opencode()
    assert binary is not None, "the opencode worker is not installed"
    password = secrets.token_urlsafe(16)
    root.mkdir(parents=True)
    choice = ProviderChoice(config, None, False, "benchmark", overlay)
    env = worker_environment(home, password, choice)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(binary), "serve", "--hostname", "127.0.0.1", "--port", "0", cwd=root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    url = ""
    while not url:
        line = await asyncio.wait_for(proc.stdout.readline(), 60.0)
        if not line:
            raise RuntimeError("opencode exited before it listened")
        if match := _LISTENING.search(line):
            url = match.group(1).decode()
    drain = asyncio.ensure_future(proc.stdout.read())
    client = OpencodeClient(url, password)
    events: LoopEvents | None = None
    try:
        await asyncio.wait_for(_until_healthy(client), 60.0)
        events, sid = await asyncio.gather(LoopEvents.open(url, password), client.create_session())
        await client.prompt(sid, "hello there")
        while not any(delta.session == sid for delta in events.deltas):
            assert time.perf_counter() - started < 90.0, "no text delta from opencode"
            await asyncio.sleep(0.002)
        return next(d.arrived for d in events.deltas if d.session == sid) - started
    finally:
        if events is not None:
            events.close()
        client.close()
        proc.terminate()
        await proc.wait()
        drain.cancel()


async def first_answers(tmp: Path) -> list[Figure]:
    """Cold first answers through Jupyter and from bare opencode; then subscribed clients."""
    with FakeModelProcess() as model:
        config = write_model_config(tmp, model)
        bare: list[float] = []
        plain: list[float] = []
        cold: list[Answer] = []
        with Server(tmp / "reference", config=config, home=tmp / "reference-home") as reference:
            overlay = await worker_overlay(reference)
            for index in range(COLD):
                bare.append(
                    await bare_opencode(
                        tmp / f"bare-{index}", config, tmp / f"bare-home-{index}", overlay
                    )
                )
                home = tmp / f"worker-home-{index}"
                cold.append(await through_jupyter(tmp / f"cold-{index}", config, home, 0.0))
                plain.append(
                    await bare_opencode(
                        tmp / f"plain-{index}", config, tmp / f"plain-home-{index}", None
                    )
                )
        subscribed = [
            await through_jupyter(tmp / f"subscribed-{index}", config, home, SUBSCRIBED_FOR)
            for index in range(SUBSCRIBED)
        ]
    cold_first, bare_first, plain_first = (
        median([c.first for c in cold]),
        median(bare),
        median(plain),
    )
    early, warm = median([s.first for s in subscribed]), median([s.warm for s in subscribed])
    return [
        Figure(BENCH, "cold first answer / bare opencode's", cold_first / bare_first, "x", 1.0,
               note=f"prompt to a stopped worker -> first text chunk {cold_first:.2f} s vs bare"
               f" opencode serve spawn -> first text delta {bare_first:.2f} s; same config,"
               f" fresh homes, alternating, median of {COLD}"),
        Figure(BENCH, "  cold first answer through Jupyter", cold_first, "s"),
        Figure(BENCH, "  baseline: bare opencode, spawn -> first text delta", bare_first, "s",
               note="the worker's config: the file, the notebook tools' MCP server, instructions"
               " and permissions"),
        Figure(BENCH, "  bare opencode with the config file alone", plain_first, "s",
               note=f"{cold_first / plain_first:.2f}x; no MCP server, instructions or permissions"
               " laid over"),
        Figure(BENCH, f"subscribed {SUBSCRIBED_FOR:.0f} s before / warm worker", early / warm, "x",
               1.5, note=f"first text chunk {early:.3f} s vs {warm:.3f} s from the warm worker of"
               f" the same server, median of {SUBSCRIBED}, used worker home"),
        Figure(BENCH, "  warm worker: prompt -> first text chunk", warm, "s",
               note="baseline: a second session's first prompt, same servers"),
    ]  # fmt: skip


async def bench(tmp: Path) -> list[Figure]:
    """Run the start benchmarks."""
    plain, extended = server_initializes(tmp)
    wall_on, wall_off = min(w for w, _ in extended), min(w for w, _ in plain)
    cpu_on, cpu_off = min(c for _, c in extended), min(c for _, c in plain)
    imports = import_seconds(tmp)
    hung = stops_that_hung(tmp)
    figures = [
        Figure(BENCH, "added to ServerApp.initialize", (wall_on - wall_off) * 1000, "ms", 100.0,
               note=f"min of {INITIALIZES}: {wall_on * 1000:.0f} ms with the extension vs"
               f" {wall_off * 1000:.0f} ms switched off, alternating, fresh processes,"
               " bytecode cached, no other extension"),
        Figure(BENCH, "  the same in CPU time", (cpu_on - cpu_off) * 1000, "ms",
               note=f"min of {INITIALIZES}: {cpu_on * 1000:.0f} ms vs {cpu_off * 1000:.0f} ms"),
        Figure(BENCH, "  import of jupyter_opencode.server.app", median(imports) * 1000, "ms",
               note=f"after jupyter_server is imported, median of {INITIALIZES}"),
        Figure(BENCH, "servers stopped right after start that hung", hung, "", 0.0,
               note=f"SIGTERM as soon as api/status answered, SIGKILL after {STOP_TIMEOUT:.0f} s,"
               f" of {STARTS}"),
    ]  # fmt: skip
    return figures + await first_answers(tmp)


if __name__ == "__main__":
    main(bench)
