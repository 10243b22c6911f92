"""Supervision of the ``opencode serve`` child: lazy start, health, restarts, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from traitlets import Float, Int, List, Unicode
from traitlets.config import LoggingConfigurable

from ..tasks import BackgroundTasks
from .adapter import OpencodeClient, OpencodeError
from .environment import ProviderChoice, permission_modes, user_config_home, worker_environment
from .install import NOT_INSTALLED, installed_opencode
from .project import copy_markdown
from .sse import load_libraries

_LISTENING = re.compile(rb"listening on (http://\S+)")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the Jupyter server dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class WorkerError(Exception):
    """The worker cannot be started; the message says what the user can do."""


def _loopback_url(url: str) -> str:
    """The worker's URL from its listening line, refused unless it is on 127.0.0.1."""
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1" or not parts.port:
        raise WorkerError(f"opencode listens on {url}, not on a 127.0.0.1 port")
    return f"http://127.0.0.1:{parts.port}"


class WorkerSupervisor(LoggingConfigurable):
    """Runs one ``opencode serve`` per Jupyter server and keeps it healthy."""

    opencode_command = List(Unicode(), default_value=[], help="Command that runs opencode.")
    idle_timeout = Float(1800.0, help="Idle seconds after which the worker stops (0: never).")
    restart_limit = Int(5, help="Crash restarts allowed before the worker is marked failed.")
    stable_start_time = Float(
        30.0, help="Seconds a worker must live for its restart count to be reset."
    ).tag(config=True)
    startup_timeout = Float(60.0, help="Seconds to wait for opencode to answer.").tag(config=True)
    # A health request sent as opencode starts listening can be accepted and never answered:
    # it is given up on quickly and sent again.
    health_timeout = 0.25
    health_retry = 0.02
    health_interval = Float(10.0, help="Seconds between health checks.").tag(config=True)
    kill_timeout = Float(5.0, help="Seconds between SIGTERM and SIGKILL at shutdown.").tag(
        config=True
    )

    def __init__(
        self,
        *,
        home: Path,
        cwd: Path,
        provider: Callable[[], Awaitable[ProviderChoice]],
        on_ready: Callable[[OpencodeClient], None],
        on_lost: Callable[[str], None],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.home = home
        self.cwd = cwd
        self._provider = provider
        self._on_ready = on_ready
        self._on_lost = on_lost
        self.state = "stopped"
        self.error: str | None = None
        self.restarts = 0
        self.version: str | None = None
        self.permissions: dict[str, str] | None = None
        self.client: OpencodeClient | None = None
        # How the worker's MCP servers connected at its warm-up: "connected", or the error.
        self.mcp_servers: dict[str, str] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._started_at = 0.0
        self._ready: asyncio.Future[OpencodeClient] | None = None
        self._warming: asyncio.Task[None] | None = None
        self._tasks = BackgroundTasks(self.log)
        self._busy: Callable[[], bool] = lambda: False
        self._last_used = time.monotonic()
        self._stopping = False
        # Whether a prompt waited for the worker's start (it then pays opencode's set-up).
        self._prompt_waits = False

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    def status(self) -> dict[str, object]:
        """The worker's state as the status route reports it."""
        return {
            "state": self.state,
            "pid": self.pid,
            "version": self.version,
            "restarts": self.restarts,
            "error": self.error,
            "permissions": self.permissions,
        }

    def set_busy_check(self, busy: Callable[[], bool]) -> None:
        """Tell the idle timer how to know that clients still need the worker."""
        self._busy = busy

    def touch(self) -> None:
        """Record use, for the idle timeout."""
        self._last_used = time.monotonic()

    def warm_up(self) -> None:
        """Start the worker in the background if it is stopped: a client is about to need it."""
        self.touch()
        if self.state in ("stopped", "failed"):
            self._tasks.spawn(self._warm_up())

    async def _warm_up(self) -> None:
        with contextlib.suppress(WorkerError):
            await self._until_ready()

    async def ready(self, prompt: bool = False) -> OpencodeClient:
        """A running worker's client, starting one if needed (``prompt``: one follows at once)."""
        if self.state != "ready" and prompt:
            self._prompt_waits = True
        return await self._until_ready()

    async def _until_ready(self) -> OpencodeClient:
        self.touch()
        if self.state == "ready" and self.client is not None:
            return self.client
        if self._ready is None or (self._ready.done() and self.state in ("stopped", "failed")):
            self._ready = asyncio.get_running_loop().create_future()
            self.restarts = 0 if self.state == "failed" else self.restarts
            self._tasks.spawn(self._start())
        return await asyncio.shield(self._ready)

    def _settle(self, result: OpencodeClient | BaseException) -> None:
        future = self._ready
        if future is None or future.done():
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
            future.exception()  # a start nobody awaits must not warn
        else:
            future.set_result(result)

    async def _start(self) -> None:
        self.state = "starting" if self.restarts == 0 else "restarting"
        self.error = None
        try:
            client = await self._launch()
        except Exception as e:
            # Whatever went wrong, waiters get an answer they can show instead of hanging.
            failure = e if isinstance(e, WorkerError) else WorkerError(f"opencode failed: {e}")
            self.state, self.error, self._prompt_waits = "failed", str(failure), False
            self.log.error("opencode worker failed to start: %s", e, exc_info=True)
            self._settle(failure)
            return
        self.client = client
        self.state = "ready"
        self.touch()  # idle time counts from now: a slow start is not idleness
        self._on_ready(client)
        self._settle(client)
        # A prompt waiting for this start goes at once and pays opencode's set-up itself (it is
        # the first message): the warm-up then only waits for the MCP servers. Otherwise the
        # warm-up does that set-up, and a prompt sent later finds it done.
        first_message, self._prompt_waits = not self._prompt_waits, False
        self._warming = self._tasks.spawn(self._warm(client, first_message))

    def _warming_up(self) -> bool:
        return self._warming is not None and not self._warming.done()

    async def warmed(self) -> None:
        """Wait until the running worker's warm-up is over (at once when there is none)."""
        if self._warming is not None:
            await asyncio.shield(self._warming)

    async def _warm(self, client: OpencodeClient, first_message: bool) -> None:
        started = time.monotonic()
        try:
            self.mcp_servers = await client.warm(first_message)
        except (OpencodeError, ValueError) as e:
            self.log.warning("warming up the opencode worker failed: %s", e)
            return
        finally:
            self.touch()  # idle time counts from the end of the warm-up
        for name, state in self.mcp_servers.items():
            if state not in ("connected", "disabled"):
                self.log.warning("the worker's MCP server %r did not connect: %s", name, state)
        self.log.debug("opencode worker warmed up in %.2f s", time.monotonic() - started)

    def _command(self) -> list[str]:
        if self.opencode_command:
            return list(self.opencode_command)
        binary = installed_opencode()
        if binary is None:
            raise WorkerError(NOT_INSTALLED)
        return [str(binary)]

    async def _launch(self) -> OpencodeClient:
        command = self._command()
        password = secrets.token_urlsafe(24)
        choice = await self._provider()
        env = worker_environment(self.home, password, choice)
        # Folders of the user's and the project's Markdown: read off the server's loop.
        copied = await asyncio.to_thread(
            copy_markdown, self.home / "config" / "opencode", user_config_home(), self.cwd
        )
        if copied:
            self.log.info("opencode agents and commands from: %s", ", ".join(copied))
        self.permissions = permission_modes(choice)
        # Port 0: opencode binds a free port itself and says which (no pick-then-bind race).
        args = [*command, "serve", "--hostname", "127.0.0.1", "--port", "0"]
        self.log.info("starting opencode worker: %s", " ".join(args))
        self._started_at = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                cwd=str(self.cwd),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                # What opencode writes (its own database, logs, snapshots) is this user's alone.
                umask=0o077,
                preexec_fn=_die_with_parent,
            )
        except OSError as e:
            raise WorkerError(f"{NOT_INSTALLED} ({e})") from e
        self._proc = proc
        # The event stream's HTTP libraries load in a thread while opencode starts.
        libraries = asyncio.ensure_future(asyncio.to_thread(load_libraries))
        listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tasks.spawn(self._read_output(proc, listening))
        client: OpencodeClient | None = None
        deadline = time.monotonic() + self.startup_timeout
        try:
            url = await asyncio.wait_for(listening, self.startup_timeout)
            client = OpencodeClient(_loopback_url(url), password)
            self.version = await asyncio.wait_for(
                self._until_healthy(proc, client), max(deadline - time.monotonic(), 0.1)
            )
            # Loading its config sets opencode up for the project: a config it rejects fails
            # the start here, in opencode's own words. The rest of its set-up is the warm-up's.
            await client.config(timeout=max(deadline - time.monotonic(), 0.1))
            await libraries
        except (asyncio.TimeoutError, WorkerError, OpencodeError, OSError, ValueError) as e:
            if client is not None:
                client.close()
            await self._terminate(proc)
            reason = str(e) or f"opencode did not answer within {self.startup_timeout:.0f} s"
            raise WorkerError(reason) from e
        self._tasks.spawn(self._watch(proc, client))
        return client

    async def _read_output(
        self, proc: asyncio.subprocess.Process, listening: asyncio.Future[str]
    ) -> None:
        assert proc.stdout is not None
        tail: list[bytes] = []
        async for line in proc.stdout:
            tail = [*tail[-20:], line]
            if not listening.done() and (match := _LISTENING.search(line)):
                listening.set_result(match.group(1).decode())
            self.log.debug("opencode: %s", line.decode(errors="replace").rstrip())
        if not listening.done():
            output = b"".join(tail).decode(errors="replace").strip()
            listening.set_exception(WorkerError(f"opencode exited while starting: {output[-800:]}"))
            listening.exception()

    async def _until_healthy(
        self, proc: asyncio.subprocess.Process, client: OpencodeClient
    ) -> str | None:
        """Wait for an answer to the health route: the version."""
        while (health := await client.health(timeout=self.health_timeout)) is None:
            if proc.returncode is not None:
                raise WorkerError(f"opencode exited with code {proc.returncode} while starting")
            await asyncio.sleep(self.health_retry)
        version = health.get("version")
        return str(version) if version else None

    async def _watch(self, proc: asyncio.subprocess.Process, client: OpencodeClient) -> None:
        """Wait for the child to exit or stop answering, then restart it unless it was stopped."""
        failures = 0
        while True:
            exited = asyncio.ensure_future(proc.wait())
            done, _ = await asyncio.wait({exited}, timeout=self.health_interval)
            if done:
                break
            exited.cancel()
            if self._idle():
                self.log.info("opencode worker idle for %.0f s: stopping it", self.idle_timeout)
                await self.stop()
                return
            # Busy setting itself up, opencode may answer late: that is no hang.
            timeout = 10.0 if self._warming_up() else 2.0
            failures = 0 if await client.health(timeout=timeout) is not None else failures + 1
            if failures >= 3:
                self.log.warning("opencode worker stopped answering health checks: killing it")
                await self._terminate(proc)
                break
        client.close()
        if self._stopping or self._proc is not proc:
            return
        self.client = None
        reason = f"opencode worker exited with code {proc.returncode}"
        self.log.warning("%s", reason)
        self._on_lost(reason)
        await self._restart(reason)

    def _idle(self) -> bool:
        if self.idle_timeout <= 0 or self._warming_up() or self._busy():
            self.touch()
            return False
        return time.monotonic() - self._last_used > self.idle_timeout

    async def _restart(self, reason: str) -> None:
        if time.monotonic() - self._started_at > self.stable_start_time:
            self.restarts = 0
        if self.restarts >= self.restart_limit:
            self.state = "failed"
            self.error = f"{reason}; gave up after {self.restart_limit} restarts"
            self._settle(WorkerError(self.error))
            return
        self.restarts += 1
        self.state = "restarting"
        self._ready = asyncio.get_running_loop().create_future()
        await asyncio.sleep(min(0.25 * 2 ** (self.restarts - 1), 30.0))
        if self._proc is None:
            return
        await self._start()

    async def _terminate(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the child's process group, wait, then SIGKILL it."""
        if proc.returncode is not None:
            return
        for sig, wait in ((signal.SIGTERM, self.kill_timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                await asyncio.wait_for(proc.wait(), wait)
                return
            except asyncio.TimeoutError:
                continue

    async def stop(self) -> None:
        """Stop the worker (it starts again lazily when a client needs it)."""
        self._stopping = True
        try:
            proc, self._proc = self._proc, None
            if self.client is not None:
                self.client.close()
                self.client = None
            if proc is not None:
                await self._terminate(proc)
            self.state = "stopped"
            self._settle(WorkerError("the opencode worker was stopped"))
            self._ready = None
        finally:
            self._stopping = False

    async def shutdown(self) -> None:
        """Stop the worker and every background task, at server shutdown."""
        await self.stop()
        await self._tasks.cancel()
