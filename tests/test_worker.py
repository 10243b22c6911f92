"""The worker's life: a missing binary, idle shutdown and lazy restart, the offline demo model."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import expected_text

from .streams import Api, Opener, time_limit


class TestMissingWorker:
    """opencode is not installed: a clear error for the user, nothing crashes."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
        """Point the worker at a command that does not exist."""
        jp_server_config["OpencodeExtension"]["opencode_command"] = [str(tmp_path / "no-opencode")]
        return jp_server_config

    async def test_prompt_ends_in_a_clear_error(self, api: Api, open_stream: Opener) -> None:
        stream = await open_stream()
        sid = "session-missing"
        frames = await stream.answer(api, sid, "hello")
        message = frames[-1]["message"]
        assert message["status"] == "error"
        assert "jupyter opencode install-worker" in message["error"]
        _, status = await api.call("GET", "status")
        assert status["worker"]["state"] == "failed"
        assert "install-worker" in status["worker"]["error"]
        code, body = await api.call("GET", "models")
        assert code == 503 and body["reason"] == "worker_unavailable"


class TestIdleWorker:
    """With no client and no prompt the worker stops, and starts again when needed."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        """A one-second idle timeout, checked often."""
        jp_server_config["OpencodeExtension"]["idle_timeout"] = 1.0
        jp_server_config["WorkerSupervisor"] = {"health_interval": 0.2}
        return jp_server_config

    async def test_idle_shutdown_then_lazy_restart(self, api: Api, open_stream: Opener) -> None:
        assert (await api.call("GET", "models"))[0] == 200
        async with time_limit(20):
            while (await api.call("GET", "status"))[1]["worker"]["state"] != "stopped":
                await asyncio.sleep(0.1)
        stream = await open_stream()
        sid = "session-idle"
        frames = await stream.answer(api, sid, "are you back?")
        assert frames[-1]["message"]["content"] == expected_text("are you back?")
        _, status = await api.call("GET", "status")
        assert status["worker"]["state"] == "ready"


class TestDemoModel:
    """No provider configured anywhere: the offline demo model answers, labelled as such."""

    @pytest.fixture
    def jp_server_config(
        self, jp_server_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> dict[str, Any]:
        """No opencode_config, and user config and data homes without opencode in them."""
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
        del jp_server_config["OpencodeExtension"]["opencode_config"]
        return jp_server_config

    async def test_demo_model_answers(self, api: Api, open_stream: Opener) -> None:
        _, status = await api.call("GET", "status")
        assert status["demo"] is True
        code, models = await api.call("GET", "models")
        assert code == 200 and models["models"][0]["name"] == "Demo model (offline)"
        stream = await open_stream()
        sid = "session-demo"
        frames = await stream.answer(api, sid, "what can you do?")
        assert frames[-1]["message"]["content"] == expected_text("what can you do?")


class TestRestartLimit:
    """A worker that keeps crashing is given up on, with the reason; a new prompt tries again."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        """One crash restart allowed."""
        jp_server_config["OpencodeExtension"]["restart_limit"] = 1
        return jp_server_config

    async def test_gives_up_after_the_limit_then_retries_on_demand(
        self, api: Api, open_stream: Opener
    ) -> None:
        assert (await api.call("GET", "models"))[0] == 200
        for wanted in ("ready", "failed"):
            _, status = await api.call("GET", "status")
            killed = status["worker"]["pid"]
            os.kill(killed, signal.SIGKILL)
            async with time_limit(30):
                while True:
                    worker = (await api.call("GET", "status"))[1]["worker"]
                    if worker["state"] == wanted and worker["pid"] != killed:
                        break
                    await asyncio.sleep(0.1)
        assert worker["restarts"] == 1 and "gave up after 1 restarts" in worker["error"]
        stream = await open_stream()
        frames = await stream.answer(api, "session-after-failure", "back again?")
        assert frames[-1]["message"]["content"] == expected_text("back again?")


class TestBrokenConfig:
    """An opencode config that opencode rejects: the user reads opencode's own complaint."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
        """A config file that is not JSON."""
        broken = tmp_path / "broken-opencode.json"
        broken.write_text("{ this is not json")
        jp_server_config["OpencodeExtension"]["opencode_config"] = str(broken)
        return jp_server_config

    async def test_prompt_ends_in_an_error_and_nothing_hangs(
        self, api: Api, open_stream: Opener
    ) -> None:
        stream = await open_stream()
        frames = await stream.answer(api, "session-broken-config", "hello", timeout=90)
        message = frames[-1]["message"]
        assert message["status"] == "error"
        assert "ConfigJsonError (" in message["error"]
        assert "broken-opencode.json): " in message["error"]
        _, status = await api.call("GET", "status")
        assert status["worker"]["state"] == "failed"
        assert status["worker"]["error"] == message["error"]
