"""Edits the user allows without asking are still read first, so they are listed and undone."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess, opencode_config

from .streams import Api, Opener, ask
from .test_file_changes import calls, files_part


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], tmp_path: Path, fake_model: FakeModelProcess
) -> dict[str, Any]:
    """The fake model, with every edit allowed (the worker's notebooks rule still applies)."""
    config = opencode_config(fake_model.url)
    config["permission"] = {"edit": "allow", "bash": "ask"}
    path = tmp_path / "opencode-edits-allowed.json"
    path.write_text(json.dumps(config))
    jp_server_config["OpencodeExtension"]["opencode_config"] = str(path)
    return jp_server_config


async def test_allowed_edits_ask_nobody_and_are_tracked(
    api: Api, open_stream: Opener, jp_root_dir: Path
) -> None:
    target, made = jp_root_dir / "table.csv", jp_root_dir / "new.csv"
    target.write_text("x\n1\n")
    notebook = jp_root_dir / "guarded.ipynb"
    notebook.write_text("{}")
    text = calls(
        ("edit", {"filePath": str(target), "oldString": "1", "newString": "2"}),
        ("write", {"filePath": str(made), "content": "y\n"}),
        ("write", {"filePath": str(notebook), "content": "[]"}),
    )
    sid = f"allowed-{uuid.uuid4().hex[:8]}"
    frames, answer = await ask(api, await open_stream(), sid, text, [])
    assert [f.get("kind") for f in frames] == [None]  # no permission prompt shown
    assert notebook.read_text() == "{}"  # still denied to opencode's own tools
    assert [(c["path"], c["op"]) for c in files_part(answer)["changes"]] == [
        ("table.csv", "modified"),
        ("new.csv", "added"),
    ]
    code, status = await api.call("GET", "status")
    assert code == 200 and status["worker"]["permissions"]["edit"] == "allow"
    route = ["sessions", sid, "messages", answer["id"], "files", "undo"]
    code, body = await api.call("POST", *route)
    assert code == 200 and body == {"restored": ["table.csv", "new.csv"], "skipped": []}
    assert target.read_text() == "x\n1\n" and not made.exists()
