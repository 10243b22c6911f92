"""Shared pieces of the benchmarks: a real Jupyter server with the extension, clients, figures."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_opencode.testing import FakeModelProcess, JupyterProcess, opencode_config

SRC = str(Path(__file__).resolve().parents[1] / "src")
Frame = dict[str, Any]


@dataclass
class Figure:
    """One printed result, next to its target (``target`` None: informative only)."""

    bench: str
    name: str
    value: float
    unit: str
    target: float | None = None
    at_least: bool = False
    note: str = ""

    @property
    def verdict(self) -> str:
        """``ok``, ``MISS`` or empty when there is no target."""
        if self.target is None:
            return ""
        met = self.value >= self.target if self.at_least else self.value <= self.target
        return "ok" if met else "MISS"

    def target_text(self) -> str:
        """The target as printed, e.g. ``<= 1.10``."""
        if self.target is None:
            return ""
        return f"{'>=' if self.at_least else '<='} {_number(self.target)}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def print_table(figures: list[Figure]) -> None:
    """Print figures as an aligned table."""
    rows = [("bench", "figure", "value", "target", "", "note")]
    rows += [
        (f.bench, f.name, f"{_number(f.value)} {f.unit}", f.target_text(), f.verdict, f.note)
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[5]]).rstrip(), flush=True)


def main(bench: Callable[[Path], Coroutine[Any, Any, list[Figure]]]) -> None:
    """Run one benchmark in a temporary directory, print its table, optionally save JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jo-bench-") as tmp:
        figures = asyncio.run(bench(Path(tmp)))
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures]))


def median(values: list[float]) -> float:
    """Median, NaN when there is nothing to take it of."""
    return statistics.median(values) if values else float("nan")


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_model_config(tmp: Path, model: FakeModelProcess) -> Path:
    """An opencode configuration file pointing at the fake model."""
    path = tmp / "opencode.json"
    path.write_text(json.dumps(opencode_config(model.url)))
    return path


class Server(JupyterProcess):
    """A ``jupyter server`` subprocess with or without the extension, timed to ``api/status``."""

    def __init__(
        self,
        tmp: Path,
        *,
        config: Path | None = None,
        home: Path | None = None,
        extension: bool = True,
        minimal: bool = False,
    ) -> None:
        env = {"JUPYTER_NO_CONFIG": "1"} if minimal else None
        super().__init__(
            tmp, opencode_config=config, worker_home=home, extension=extension, env=env
        )
        self.started_in = 0.0
        self.cpu_at_start = 0.0

    @property
    def ready_path(self) -> str:
        """Jupyter's own status route, with or without the extension."""
        return "api/status"

    def start(self) -> float:
        """Start the server; return the seconds until ``GET api/status`` first answered 200."""
        self.started_in = super().start()
        assert self.proc is not None
        self.cpu_at_start = cpu_seconds(self.proc.pid)
        return self.started_in

    def worker(self) -> dict[str, Any]:
        """The worker part of ``GET opencode/status``."""
        result: dict[str, Any] = self.call("GET", "opencode/status")["worker"]
        return result


def listening_port(pid: int) -> int:
    """The TCP port a process listens on (opencode picks its own: ``--port 0``)."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                sockets.add(target[8:-1])
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in sockets:  # 0A: LISTEN
            return int(fields[1].rsplit(":", 1)[1], 16)
    raise RuntimeError(f"process {pid} listens on no TCP port")


def worker_endpoint(pid: int) -> tuple[str, str]:
    """Base URL and password of a running ``opencode serve``, read from /proc."""
    port = listening_port(pid)
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.split(b"=", 1) for item in environ if b"=" in item)
    return f"http://127.0.0.1:{port}", env[b"OPENCODE_SERVER_PASSWORD"].decode()


def is_text(sid: str) -> Callable[[Frame], bool]:
    """Whether a stream frame is a text chunk of a session."""
    return lambda f: f["type"] == "chunk" and f["session_id"] == sid and f["kind"] == "text"


def is_final(sid: str) -> Callable[[Frame], bool]:
    """Whether a stream frame is the final assistant message of a session."""
    return lambda f: (
        f["type"] == "message"
        and f["session_id"] == sid
        and f["message"]["role"] == "assistant"
        and f["message"]["status"] not in ("pending", "streaming")
    )


class Stream:
    """A client of the extension's ``opencode/stream`` that timestamps every frame it receives."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.frames: list[tuple[float, Frame]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, server: Server) -> Stream:
        """Connect and wait for the greeting."""
        # Every delta as it comes (no merging to a cadence): these clients time the relay.
        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}/opencode/stream?cadence_ms=0",
            headers={"Authorization": f"token {server.token}"},
        )
        stream = cls(await websocket_connect(request, max_message_size=64 * 1024 * 1024))
        await stream.wait_for(lambda f: f["type"] == "connected", 0, 30.0)
        return stream

    async def _read(self) -> None:
        while (message := await self.ws.read_message()) is not None:
            self.frames.append((time.perf_counter(), json.loads(message)))
            self._arrived.set()
        self._arrived.set()

    def send(self, **frame: Any) -> None:
        """Send one frame."""
        self.ws.write_message(json.dumps(frame))

    async def wait_for(self, done: Callable[[Frame], bool], start: int, timeout: float) -> float:
        """The arrival time of the first frame from index ``start`` on that satisfies ``done``."""
        deadline = time.perf_counter() + timeout
        index = start
        while True:
            for t, frame in self.frames[index:]:
                if done(frame):
                    return t
            index = len(self.frames)
            if self._reader.done():
                raise RuntimeError("the stream closed")
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), max(deadline - time.perf_counter(), 0))

    def close(self) -> None:
        """Close the socket."""
        self.ws.close()
        self._reader.cancel()


class Delta(NamedTuple):
    """A text delta of opencode's event stream: when it arrived, its session, its text."""

    arrived: float
    session: str
    text: str


class DirectEvents:
    """opencode's own ``GET /event``, read by a separate process that timestamps each text delta."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.deltas: list[Delta] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, base_url: str, password: str) -> DirectEvents:
        """Start the reader process and wait until opencode greeted it."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, base_url,
            env={**os.environ, "OPENCODE_SERVER_PASSWORD": password},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30.0)
        if line.strip() != b"connected":
            raise RuntimeError(f"opencode's event stream did not open: {line!r}")
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            arrived, session, text = line.decode().split(" ", 2)
            self.deltas.append(Delta(float(arrived), session, json.loads(text)))

    def close(self) -> None:
        """Stop the reader process."""
        self._reader.cancel()
        if self.proc.returncode is None:
            self.proc.kill()


class LoopEvents:
    """opencode's own ``GET /event``, read in the benchmark's own event loop.

    Its timestamps and those of our WebSocket frames then wait for the same loop: the
    difference is what our server adds, not how late one client process was scheduled.
    """

    def __init__(self) -> None:
        self.deltas: list[Delta] = []
        self._buffer = b""
        self._connected = asyncio.Event()
        self._client = AsyncHTTPClient(force_instance=True, max_body_size=2**40)
        self._fetch: asyncio.Future[Any] | None = None

    @classmethod
    async def open(cls, base_url: str, password: str) -> LoopEvents:
        """Start reading and wait until opencode greeted us."""
        events = cls()
        token = base64.b64encode(f"opencode:{password}".encode()).decode()
        request = HTTPRequest(
            f"{base_url}/event", headers={"Authorization": f"Basic {token}"},
            streaming_callback=events._on_data, connect_timeout=10, request_timeout=24 * 3600,
        )  # fmt: skip
        events._fetch = asyncio.ensure_future(events._client.fetch(request, raise_error=False))
        await asyncio.wait_for(events._connected.wait(), 30.0)
        return events

    def _on_data(self, data: bytes) -> None:
        arrived = time.perf_counter()
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            if b"server.connected" in line:
                self._connected.set()
            elif b"message.part.delta" in line:
                props = json.loads(line[5:]).get("properties") or {}
                if props.get("field") == "text":
                    self.deltas.append(
                        Delta(arrived, str(props.get("sessionID")), props.get("delta") or "")
                    )

    def close(self) -> None:
        """Stop reading."""
        if self._fetch is not None:  # closing the client ends it with a 599: expected here
            self._fetch.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._client.close()


class Relay:
    """The floor: a separate process that only relays opencode's text deltas over a WebSocket.

    It does what any relay must (read opencode's stream, parse each event, send a frame to a
    client in another process) and nothing else, so its added latency, measured beside ours in
    the same run, is what the machine imposes on any server at that load.
    """

    def __init__(self, proc: asyncio.subprocess.Process, ws: WebSocketClientConnection) -> None:
        self.proc = proc
        self.ws = ws
        self.deltas: list[Delta] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, base_url: str, password: str) -> Relay:
        """Start the relay process and connect to it."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, base_url, "relay",
            env={**os.environ, "OPENCODE_SERVER_PASSWORD": password},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        port = int(await asyncio.wait_for(proc.stdout.readline(), 30.0))
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/", max_message_size=2**30)
        assert await asyncio.wait_for(ws.read_message(), 30.0) == "connected"
        return cls(proc, ws)

    async def _read(self) -> None:
        while (message := await self.ws.read_message()) is not None:
            arrived = time.perf_counter()
            session, delta = json.loads(message)
            self.deltas.append(Delta(arrived, session, delta))

    def close(self) -> None:
        """Stop the relay."""
        self._reader.cancel()
        self.ws.close()
        if self.proc.returncode is None:
            self.proc.kill()


def _relay(base_url: str, password: str) -> None:
    """In the relay process: print the port, then send ``[sessionID, delta]`` per text delta."""
    from tornado.web import Application
    from tornado.websocket import WebSocketHandler

    clients: list[WebSocketHandler] = []
    connected = asyncio.Event()

    class Client(WebSocketHandler):
        def open(self, *args: Any, **kwargs: Any) -> None:
            clients.append(self)
            if connected.is_set():
                self.write_message("connected")

    buffer = b""

    def on_data(data: bytes) -> None:
        nonlocal buffer
        *lines, buffer = (buffer + data).split(b"\n")
        for line in lines:
            if line.startswith(b"data:") and b"server.connected" in line:
                connected.set()
                for client in clients:
                    client.write_message("connected")
            elif line.startswith(b"data:") and b"message.part.delta" in line:
                props = json.loads(line[5:]).get("properties") or {}
                if props.get("field") == "text":
                    frame = json.dumps([props.get("sessionID"), props.get("delta") or ""])
                    for client in clients:
                        client.write_message(frame)

    async def run() -> None:
        server = Application([("/", Client)]).listen(0, "127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        print(port, flush=True)
        token = base64.b64encode(f"opencode:{password}".encode()).decode()
        request = HTTPRequest(
            f"{base_url}/event", headers={"Authorization": f"Basic {token}"},
            streaming_callback=on_data, request_timeout=24 * 3600,
        )  # fmt: skip
        await AsyncHTTPClient(max_body_size=2**40).fetch(request, raise_error=False)

    asyncio.run(run())


def _read_events(base_url: str, password: str) -> None:
    """In the reader process: ``connected``, then ``<perf_counter> <sessionID> <JSON text>``s."""
    token = base64.b64encode(f"opencode:{password}".encode()).decode()
    request = urllib.request.Request(
        f"{base_url}/event", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request) as response:
        for line in response:
            if not line.startswith(b"data:"):
                continue
            arrived = time.perf_counter()
            event = json.loads(line[5:])
            props = event.get("properties") or {}
            if event.get("type") == "server.connected":
                print("connected", flush=True)
            elif event.get("type") == "message.part.delta" and props.get("field") == "text":
                print(arrived, props.get("sessionID"), json.dumps(props.get("delta") or ""),
                      flush=True)  # fmt: skip


def first_delta_session(deltas: list[Delta]) -> list[Delta]:
    """The deltas of the session with the most deltas."""
    counts: dict[str, int] = {}
    for delta in deltas:
        counts[delta.session] = counts.get(delta.session, 0) + 1
    if not counts:
        return []
    top = max(counts, key=lambda s: counts[s])
    return [delta for delta in deltas if delta.session == top]


async def ready_worker(server: Server, stream: Stream, timeout: float = 90.0) -> dict[str, Any]:
    """Subscribe to a throwaway session (which warms the worker up) and wait until it is ready."""
    stream.send(type="subscribe", session_id="bench-warm-up", after_seq=0)
    deadline = time.perf_counter() + timeout
    while (worker := server.worker())["state"] != "ready":
        if time.perf_counter() > deadline or worker["state"] == "failed":
            raise RuntimeError(f"the worker did not get ready: {worker}")
        await asyncio.sleep(0.05)
    return worker


if __name__ == "__main__":
    if sys.argv[2:] == ["relay"]:
        _relay(sys.argv[1], os.environ["OPENCODE_SERVER_PASSWORD"])
    else:
        _read_events(sys.argv[1], os.environ["OPENCODE_SERVER_PASSWORD"])
