"""Start: loading the extension imports only what start needs; the worker's warm-up is free."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess, expected_text, opencode_config

from .streams import Api, Opener

# Libraries only an export or the worker's event stream need (the MCP SDK: nothing here).
LATER = ("mcp", "reportlab", "docx", "pypdf", "markdown_it", "pygments", "nh3", "httpx")

_LOAD = """
import json, sys
from jupyter_server.serverapp import ServerApp

app = ServerApp()
app.initialize(argv=sys.argv[1:])
loaded = "jupyter_opencode_service" in app.web_app.settings
at_load = sorted({name.split(".")[0] for name in sys.modules})
import jupyter_opencode.server.export.pdf, jupyter_opencode.worker.sse
jupyter_opencode.worker.sse.load_libraries()
after = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"loaded": loaded, "at_load": at_load, "after_export": after}))
"""


def test_loading_the_extension_imports_no_heavy_library(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JUPYTER_NO_CONFIG": "1",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    argv = [
        "--ServerApp.jpserver_extensions={'jupyter_opencode': True}",
        f"--ServerApp.root_dir={tmp_path}",
        f"--OpencodeExtension.db_path={tmp_path / 'sessions.db'}",
        "--port=0",
    ]
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["loaded"], done.stderr[-2000:]
    assert not set(LATER) & set(result["at_load"])
    # The same process sees them once a PDF export and the event stream are imported.
    assert {"reportlab", "httpx"} <= set(result["after_export"])
    assert "mcp" not in result["after_export"]


@pytest.fixture
def own_model() -> Iterator[FakeModelProcess]:
    """A model of this test alone: every request it records is this test's."""
    with FakeModelProcess() as model:
        yield model


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], own_model: FakeModelProcess, tmp_path: Path
) -> dict[str, Any]:
    """The worker on this test's model."""
    path = tmp_path / "opencode.json"
    path.write_text(json.dumps(opencode_config(own_model.url)))
    jp_server_config["OpencodeExtension"]["opencode_config"] = str(path)
    return jp_server_config


def _children(pid: int) -> list[str]:
    """Command lines of a process's children."""
    tasks = Path(f"/proc/{pid}/task")
    ids = {c for task in tasks.iterdir() for c in (task / "children").read_text().split()}
    lines = []
    for child in ids:
        try:
            lines.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return lines


async def test_warm_up_starts_the_tools_and_calls_no_model(
    jp_serverapp: Any, own_model: FakeModelProcess, api: Api, open_stream: Opener
) -> None:
    supervisor = jp_serverapp.web_app.settings["jupyter_opencode_app"].supervisor
    stream = await open_stream()
    stream.subscribe("session-of-a-panel")  # a client shows: the worker starts and warms up
    while supervisor.state != "ready":
        assert supervisor.state in ("stopped", "starting"), supervisor.error
        await asyncio.sleep(0.05)
    await supervisor.warmed()
    assert supervisor.pid is not None
    # The notebook tools are connected before a prompt, and no process was started for them.
    assert supervisor.mcp_servers == {"jupyter": "connected"}
    assert not [line for line in _children(supervisor.pid) if "jupyter_opencode" in line]
    assert own_model.requests() == [], "the warm-up called the model"

    frames = await stream.answer(api, "session-after-warm-up", "hello after the warm-up")
    assert frames[-1]["message"]["content"] == expected_text("hello after the warm-up")
    assert own_model.requests(), "the prompt did not reach the model"
