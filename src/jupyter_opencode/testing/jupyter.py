"""An isolated Jupyter server or JupyterLab subprocess with the extension, for tests and benchmarks.

Also the Chromium that browser tests drive. Nothing of the extension itself imports this module.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
START_TIMEOUT = 60.0
_TOKEN = "jupyter-opencode-test-token"
_SRC_DIR = str(Path(__file__).resolve().parents[2])
_LAB_ARGS = (
    "--LabApp.news_url=None",
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
)
_NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}
_P = TypeVar("_P", bound="JupyterProcess")


def quiet_lab_settings(settings_dir: Path) -> None:
    """JupyterLab user settings in ``settings_dir`` that ask nothing about news or updates."""
    settings = settings_dir / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(_NO_NEWS))


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (a test dependency, imported only here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 (static test pages); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterProcess:
    """``python -m jupyter_server`` (or ``jupyterlab``) on 127.0.0.1, isolated in ``tmp``."""

    token = _TOKEN

    def __init__(
        self,
        tmp: Path,
        *,
        lab: bool = False,
        notebook: bool = False,
        opencode_config: Path | None = None,
        worker_home: Path | None = None,
        extension: bool = True,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        python: Path | None = None,
    ) -> None:
        self.tmp = tmp
        # Another environment's Python (an installed wheel) runs without this checkout's source.
        self.python = python
        # Jupyter Notebook 7 is a JupyterLab application with its own shell and URLs.
        self.lab = lab or notebook
        self.notebook = notebook
        self.opencode_config = opencode_config
        self.worker_home = worker_home
        self.extension = extension
        self.extra_args = tuple(extra_args)
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.root = tmp / "root"
        self.log = tmp / f"jupyter-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server, ending in '/'."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ready_path(self) -> str:
        """The route whose first answer means the server is up."""
        return "opencode/status" if self.extension else "api/status"

    def notebook_url(self, name: str) -> str:
        """URL opening ``name`` (relative to the root) in JupyterLab, in a fresh workspace."""
        if self.notebook:
            return f"{self.url}notebooks/{name}?token={self.token}"
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"

    @property
    def app(self) -> str:
        """The module the server runs as."""
        return "notebook" if self.notebook else "jupyterlab" if self.lab else "jupyter_server"

    def command(self) -> list[str]:
        """The command line of the server."""
        command = [
            str(self.python or sys.executable), "-m",
            self.app, "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.allow_root=True",
            f"--ServerApp.jpserver_extensions={{'jupyter_opencode': {self.extension}}}",
        ]  # fmt: skip
        if self.notebook:
            command += [arg.replace("LabApp", "JupyterNotebookApp") for arg in _LAB_ARGS]
        elif self.lab:
            command += _LAB_ARGS
        if self.extension:
            command.append(f"--OpencodeExtension.db_path={self.tmp / 'sessions.db'}")
            if self.opencode_config is not None:
                command.append(f"--OpencodeExtension.opencode_config={self.opencode_config}")
            if self.worker_home is not None:
                command.append(f"--OpencodeExtension.worker_home={self.worker_home}")
        return command + list(self.extra_args)

    def environment(self) -> dict[str, str]:
        """The server's environment: ours, with every Jupyter directory under ``tmp``."""
        path = os.pathsep.join(p for p in (_SRC_DIR, os.environ.get("PYTHONPATH")) if p)
        env = {
            **os.environ,
            "PYTHONPATH": "" if self.python else path,
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
        }
        if self.lab:
            env["JUPYTERLAB_SETTINGS_DIR"] = str(self.tmp / "settings")
            env["JUPYTERLAB_WORKSPACES_DIR"] = str(self.tmp / "workspaces")
            env["IPYTHONDIR"] = str(self.tmp / "ipython")
        return {**env, **self.extra_env}

    def start(self) -> float:
        """Start the server; return the seconds until ``ready_path`` first answered."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.lab:
            quiet_lab_settings(self.tmp / "settings")
        started = time.perf_counter()
        with self.log.open("wb") as log:
            proc = subprocess.Popen(
                self.command(), env=self.environment(), stdout=log, stderr=subprocess.STDOUT
            )
        self.proc = proc
        while True:
            try:
                self.call("GET", self.ready_path, timeout=1.0)
                return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > START_TIMEOUT:
                    self.kill()
                    tail = self.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"Jupyter did not start:\n{tail}") from None
                time.sleep(0.005)

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """A JSON request to ``path`` (relative to the base URL) with the token."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            error.close()  # its connection, else left open until the error is collected
            raise

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (the server stops its worker), SIGKILL after ``timeout``; False if killed."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return True
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False
        return True

    def kill(self) -> None:
        """SIGKILL the server at once (its worker must notice on its own)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __enter__(self: _P) -> _P:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
