""" "Always" for a kind of notebook change is remembered per session, across a server restart."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from jupyter_opencode.testing import FakeModelProcess, JupyterProcess

from .test_notebook_tools import calls, sources_of, write_notebook


def _permissions(db: Path, sid: str) -> list[dict[str, Any]]:
    """The permission prompts the server streamed in a session, from its database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT payload FROM chunks WHERE session_id = ? AND kind = 'permission' ORDER BY seq",
            (sid,),
        ).fetchall()
    return [json.loads(row[0])["permission"] for row in rows]


def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def _answered(server: JupyterProcess, sid: str) -> dict[str, Any]:
    messages = f"opencode/sessions/{sid}/messages"
    return _until(
        lambda: next(
            (
                m
                for m in server.call("GET", messages)["messages"][-1:]
                if m["role"] == "assistant" and m["status"] not in ("pending", "streaming")
            ),
            None,
        )
    )


def test_always_is_remembered_across_a_restart(
    tmp_path: Path, opencode_config_file: Path, worker_home: Path, fake_model: FakeModelProcess
) -> None:
    sid = "session-always-1"
    messages = f"opencode/sessions/{sid}/messages"
    paths: dict[str, Any] = {"opencode_config": opencode_config_file, "worker_home": worker_home}
    db = tmp_path / "sessions.db"
    with JupyterProcess(tmp_path, **paths) as server:
        nb = write_notebook(server.root, "always.ipynb")
        edit = calls(("edit_cell", {"path": "always.ipynb", "cell": 0, "source": "a = 10"}))
        server.call("POST", messages, {"text": edit})
        prompt = _until(lambda: _permissions(db, sid))[0]
        assert prompt["notebook"]["after"] == "a = 10"
        server.call(
            "POST", f"opencode/sessions/{sid}/permissions/{prompt['id']}", {"reply": "always"}
        )
        assert "Edited cell" in _answered(server, sid)["content"]
        assert sources_of(nb)[0] == "a = 10"

    with JupyterProcess(tmp_path, **paths) as server:
        edit = calls(("edit_cell", {"path": "always.ipynb", "cell": 1, "source": "b = 20"}))
        server.call("POST", messages, {"text": edit})
        assert "Edited cell" in _answered(server, sid)["content"]
        assert sources_of(nb)[:2] == ["a = 10", "b = 20"]
        assert len(_permissions(db, sid)) == 1, "asked again after Always"
        # Always covers that kind of change only: a deletion still asks.
        delete = calls(("delete_cell", {"path": "always.ipynb", "cell": 2}))
        server.call("POST", messages, {"text": delete})
        prompt = _until(lambda: _permissions(db, sid)[1:])[0]
        assert prompt["notebook"]["tool"] == "delete_cell"
        server.call(
            "POST", f"opencode/sessions/{sid}/permissions/{prompt['id']}", {"reply": "once"}
        )
        assert "Deleted cell 2" in _answered(server, sid)["content"]
        assert sources_of(nb) == ["a = 10", "b = 20"]
