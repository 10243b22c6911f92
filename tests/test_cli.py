"""``jupyter opencode``: doctor, install-worker's errors, the fake model command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_opencode import cli
from jupyter_opencode.worker import install


def test_doctor_reports_the_worker_and_provider(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"({install.OPENCODE_VERSION})" in out
    assert "offline demo model" in out
    (tmp_path / "data" / "opencode").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "opencode" / "auth.json").write_text("{}")
    assert cli.main(["doctor"]) == 0
    assert "your opencode setup" in capsys.readouterr().out


def test_install_worker_without_npm_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(install, "worker_prefix", lambda: tmp_path / "worker")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert cli.main(["install-worker"]) == 1
    assert "npm was not found: install Node.js" in capsys.readouterr().err


def test_doctor_without_opencode_says_how_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "installed_opencode", lambda: None)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "NOT INSTALLED" in out and "jupyter opencode install-worker" in out


def test_fake_model_command_serves() -> None:
    command = [sys.executable, "-m", "jupyter_opencode.cli", "fake-model", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("fake model listening on http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
