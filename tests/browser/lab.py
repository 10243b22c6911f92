"""An isolated JupyterLab subprocess with the extension on the fake model, and Chromium for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from jupyter_opencode.testing import opencode_config

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
SHOTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "browser-test-token"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class Lab:
    """A running JupyterLab: where it listens and where its files are."""

    port: int
    root: Path
    log: Path

    @property
    def url(self) -> str:
        """Base URL of the server, ending in '/'."""
        return f"http://127.0.0.1:{self.port}/"

    def notebook_url(self, name: str) -> str:
        """URL opening `name` (relative to the root) in a fresh workspace."""
        return f"{self.url}lab/tree/{name}?token={TOKEN}&reset"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_lab(tmp: Path, model_url: str) -> Iterator[Lab]:
    """Start JupyterLab in `tmp` with the extension answering from the model at `model_url`."""
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    root = tmp / "root"
    root.mkdir()
    config = tmp / "opencode.json"
    config.write_text(json.dumps(opencode_config(model_url)))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True", "--LabApp.news_url=None",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.jpserver_extensions={'jupyter_opencode': True}",
        f"--OpencodeExtension.opencode_config={config}",
        f"--OpencodeExtension.db_path={tmp / 'sessions.db'}",
        f"--OpencodeExtension.worker_home={tmp / 'worker-home'}",
    ]  # fmt: skip
    log = tmp / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(proc, port, log)
            yield Lab(port, root, log)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/opencode/status", headers={"Authorization": f"token {TOKEN}"}
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-3000:]
                raise RuntimeError(f"JupyterLab did not start:\n{tail}") from None
            time.sleep(0.2)


def wait_kernel_idle(page: Page) -> None:
    """Wait until the open notebook has a kernel and it is idle (else Shift+Enter is dropped)."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    kernel = page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")
    expect(kernel).not_to_have_text("No Kernel", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the whole window under test-artifacts/browser/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled")
