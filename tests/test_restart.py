"""A Jupyter server killed mid-stream: nothing is re-run, the answer ends interrupted."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import URLError

from jupyter_opencode.testing import FakeModelProcess, expected_text

TOKEN = "restart-test-token"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/opencode/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@contextmanager
def _server(tmp: Path, config: Path, home: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp / "cfg"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }
    (tmp / "root").mkdir(exist_ok=True)
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
        "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={tmp / 'root'}",
        "--ServerApp.jpserver_extensions={'jupyter_opencode': True}", "--ServerApp.allow_root=True",
        f"--OpencodeExtension.db_path={tmp / 'sessions.db'}",
        f"--OpencodeExtension.opencode_config={config}", f"--OpencodeExtension.worker_home={home}",
    ]  # fmt: skip
    log = (tmp / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _call(port, "GET", "status")
                break
            except (URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        log.close()


def test_server_killed_mid_stream(
    tmp_path: Path, opencode_config_file: Path, worker_home: Path, fake_model: FakeModelProcess
) -> None:
    sid = "session-restart-1"
    marker = "[[slow:300:0.02]] restart marker"
    with _server(tmp_path, opencode_config_file, worker_home) as (proc, port):
        accepted = _call(port, "POST", f"sessions/{sid}/messages", {"text": marker})
        mid = accepted["assistant_message"]["id"]
        deadline = time.monotonic() + 60
        while True:
            messages = _call(port, "GET", f"sessions/{sid}/messages")["messages"]
            if len(messages[-1]["content"]) > 20:
                break
            assert time.monotonic() < deadline, messages
            time.sleep(0.05)
        worker = _call(port, "GET", "status")["worker"]["pid"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists(), "the worker outlived its server"
    asked = sum(marker in json.dumps(r) for r in fake_model.requests())

    with _server(tmp_path, opencode_config_file, worker_home) as (_, port):
        messages = _call(port, "GET", f"sessions/{sid}/messages")["messages"]
        assert [m["id"] for m in messages][-1] == mid
        assert messages[-1]["status"] == "interrupted"
        assert messages[-1]["content"] and expected_text(marker).startswith(messages[-1]["content"])
        status = _call(port, "GET", "status")["worker"]
        assert status["state"] == "stopped"
        time.sleep(1.0)
        assert sum(marker in json.dumps(r) for r in fake_model.requests()) == asked
        _call(port, "POST", f"sessions/{sid}/messages", {"text": "still there?"})
        deadline = time.monotonic() + 60
        while (
            _call(port, "GET", f"sessions/{sid}/messages")["messages"][-1]["status"] != "complete"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with sqlite3.connect(tmp_path / "sessions.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
