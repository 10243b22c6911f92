"""openapi.json is what the server does: schemathesis, every check on, against a live server.

A real Jupyter server with the extension, the real opencode worker and the fake model; the
run's own hooks (tests/contract/hooks.py) add Jupyter's 403 for a missing token and "a
rejected request changes nothing saved". Other seeds and case counts: ``CONTRACT_SEED``,
``CONTRACT_EXAMPLES``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess, JupyterProcess, opencode_config

ROOT = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("CONTRACT_SEED", "2026"))
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "5"))
WEBSOCKET_TAG = "websocket"


@pytest.fixture
def server(
    tmp_path: Path, fake_model: FakeModelProcess, worker_home: Path
) -> Iterator[JupyterProcess]:
    """A Jupyter server with the extension, its worker started."""
    config = tmp_path / "opencode.json"
    config.write_text(json.dumps(opencode_config(fake_model.url)))
    with JupyterProcess(tmp_path, opencode_config=config, worker_home=worker_home) as jupyter:
        jupyter.call("GET", "opencode/models", timeout=120)  # the worker is up before the run
        yield jupyter


def _websocket_operations(document: dict[str, Any]) -> set[str]:
    """The operations the document declares as WebSocket upgrades (101, tagged)."""
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method != "parameters" and WEBSOCKET_TAG in op.get("tags", ())
    }


def test_schemathesis_finds_no_failure(server: JupyterProcess, tmp_path: Path) -> None:
    document = server.call("GET", "opencode/openapi.json")
    sockets = _websocket_operations(document)
    assert sockets == {"GET /stream", "GET /notebook/live"}
    for label in sockets:
        method, path = label.split(" ")
        assert "101" in document["paths"][path][method.lower()]["responses"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
        "CONTRACT_DB": str(tmp_path / "sessions.db"),
    }
    url = f"{server.url}opencode"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(ROOT / "tests" / "contract" / "schemathesis.toml"),
        "--no-color", "run", f"{url}/openapi.json", "--url", url,
        "-H", f"Authorization: token {server.token}",
        # Every check; the 401 one is replaced by the hooks' 403 one (see schemathesis.toml).
        "--checks", "all", "--exclude-checks", "missing_required_header",
        "--exclude-tag", WEBSOCKET_TAG,
        "--seed", str(SEED), "--max-examples", str(EXAMPLES), "--request-timeout", "30",
    ]  # fmt: skip
    run = subprocess.run(  # in tmp_path: schemathesis keeps its cache in the working directory
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    print(run.stdout[-4000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    assert "passed" in run.stdout and "Server error" not in run.stdout
