"""A Jupyter server stopped or killed mid-stream: nothing is re-run, the answer ends interrupted."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import FakeModelProcess, JupyterProcess, expected_text


def _until_streaming(server: JupyterProcess, path: str) -> None:
    """Wait until the answer being streamed has some text saved."""
    deadline = time.monotonic() + 60
    while True:
        messages = server.call("GET", path)["messages"]
        if len(messages[-1]["content"]) > 20:
            return
        assert time.monotonic() < deadline, messages
        time.sleep(0.05)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the worker outlived its server"


def test_server_killed_mid_stream(
    tmp_path: Path, opencode_config_file: Path, worker_home: Path, fake_model: FakeModelProcess
) -> None:
    sid = "session-restart-1"
    marker = "[[slow:300:0.02]] restart marker"
    messages_path = f"opencode/sessions/{sid}/messages"
    paths: dict[str, Any] = {"opencode_config": opencode_config_file, "worker_home": worker_home}
    with JupyterProcess(tmp_path, **paths) as server:
        accepted = server.call("POST", messages_path, {"text": marker})
        mid = accepted["assistant_message"]["id"]
        _until_streaming(server, messages_path)
        worker = server.call("GET", "opencode/status")["worker"]["pid"]
        server.kill()
    _wait_gone(worker)
    asked = sum(marker in json.dumps(r) for r in fake_model.requests())

    with JupyterProcess(tmp_path, **paths) as server:
        messages = server.call("GET", messages_path)["messages"]
        assert [m["id"] for m in messages][-1] == mid
        assert messages[-1]["status"] == "interrupted"
        assert messages[-1]["content"] and expected_text(marker).startswith(messages[-1]["content"])
        status = server.call("GET", "opencode/status")["worker"]
        assert status["state"] == "stopped"
        time.sleep(1.0)
        assert sum(marker in json.dumps(r) for r in fake_model.requests()) == asked
        server.call("POST", messages_path, {"text": "still there?"})
        deadline = time.monotonic() + 60
        while server.call("GET", messages_path)["messages"][-1]["status"] != "complete":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with sqlite3.connect(tmp_path / "sessions.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_server_stopped_mid_stream(
    tmp_path: Path, opencode_config_file: Path, worker_home: Path
) -> None:
    sid = "session-stopped-1"
    path = f"opencode/sessions/{sid}/messages"
    paths: dict[str, Any] = {"opencode_config": opencode_config_file, "worker_home": worker_home}
    with JupyterProcess(tmp_path, **paths) as server:
        server.call("POST", path, {"text": "[[slow:300:0.02]] stop marker"})
        _until_streaming(server, path)
        worker = server.call("GET", "opencode/status")["worker"]["pid"]
        assert server.stop(), "the server did not exit on SIGTERM"
    _wait_gone(worker)
    with sqlite3.connect(tmp_path / "sessions.db") as db:
        status, error, content = db.execute(
            "SELECT status, error, content FROM messages WHERE role = 'assistant'"
        ).fetchone()
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert (status, error) == ("interrupted", "the Jupyter server was stopped")
    assert content and expected_text("[[slow:300:0.02]] stop marker").startswith(content)
