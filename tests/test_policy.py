"""Admin policy: allowed models, permission modes users cannot loosen, MCP servers, keys."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.server.policy import OpencodePolicy
from jupyter_opencode.testing import FakeModelProcess, opencode_config

from .streams import Api, Opener, final

SECRET = "sk-test-0123456789abcdef0123456789abcdef"


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any],
    tmp_path: Path,
    fake_model: FakeModelProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """Two providers, three models, an MCP server of the user's, a key from the environment."""
    config = opencode_config(fake_model.url)
    fake = config["provider"]["fake"]
    fake["options"]["apiKey"] = "{env:FAKE_PROVIDER_KEY}"
    fake["models"]["echo-2"] = {"name": "Echo two"}
    config["provider"]["other"] = {**fake, "name": "Other", "models": {"o-1": {"name": "O"}}}
    config["enabled_providers"] = ["fake", "other"]
    config["permission"] = {"edit": "allow", "bash": "allow"}
    config["mcp"] = {
        "extra": {"type": "local", "command": ["/bin/false"], "enabled": True},
        "blessed": {"type": "local", "command": ["/bin/false"], "enabled": False},
    }
    path = tmp_path / "opencode.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("FAKE_PROVIDER_KEY", SECRET)
    monkeypatch.setenv("JUPYTER_OPENCODE_ALLOWED_PROVIDERS", "fake")
    monkeypatch.setenv("JUPYTER_OPENCODE_PERMISSIONS", "edit=ask,bash=deny")
    jp_server_config["OpencodeExtension"]["opencode_config"] = str(path)
    jp_server_config["OpencodePolicy"] = {
        "allowed_models": ["fake/echo-1", "other/*"],
        "allowed_mcp_servers": ["blessed"],
    }
    return jp_server_config


async def test_policy_reaches_the_picker_the_routes_and_the_worker(
    api: Api, open_stream: Opener, jp_serverapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # An allowed model answers (and the worker is up before the picker asks it).
    answer = await api.ask("session-policy-3", "hello", model="fake/echo-1")
    assert answer["status"] == "complete"
    code, models = await api.call("GET", "models")
    assert code == 200, models
    # echo-2 is not in allowed_models, other/* is but its provider is not allowed.
    assert [m["id"] for m in models["models"]] == ["fake/echo-1"]
    assert models["default"] == "fake/echo-1"

    code, body = await api.call(
        "POST",
        "sessions",
        "session-policy-1",
        "messages",
        body={"text": "hi", "model": "fake/echo-2"},
    )
    assert (code, body["reason"]) == (403, "model_not_allowed")
    assert "fake/echo-2" in body["message"]
    stream = await open_stream()
    stream.send(type="prompt", session_id="session-policy-2", text="hi", model="other/o-1")
    refused = await stream.next()
    assert (refused["type"], refused["reason"]) == ("error", "model_not_allowed")
    code, _ = await api.call("GET", "sessions", "session-policy-1")
    assert code == 404  # nothing was created by a refused prompt

    # What opencode itself runs with: the user's allows made stricter, their MCP server off.
    app = jp_serverapp.web_app.settings["jupyter_opencode_app"]
    client = app.supervisor.client
    config = await client._request("GET", "/config")
    assert config["permission"]["bash"] == "deny"
    assert config["permission"]["edit"]["*"] == "ask"
    assert config["permission"]["edit"]["*.ipynb"] == "deny"
    assert config["mcp"]["extra"]["enabled"] is False
    assert config["mcp"]["jupyter"]["enabled"] is True
    assert config["share"] == "disabled"
    assert config["enabled_providers"] == ["fake"]
    _, status = await api.call("GET", "status")
    assert status["worker"]["permissions"] == {"edit": "ask", "bash": "deny"}

    # The key reached the worker (and opencode's provider), and nobody else saw it.
    assert _environ(app.supervisor.pid)["FAKE_PROVIDER_KEY"] == SECRET
    assert config["provider"]["fake"]["options"]["apiKey"] == SECRET
    for path in ("status", "models", "sessions", "openapi.json"):
        _, body = await api.call("GET", path)
        assert SECRET not in json.dumps(body)
    assert SECRET not in caplog.text


def test_policy_from_environment_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_OPENCODE_ALLOWED_MODELS", "a/x, b/*")
    monkeypatch.setenv("JUPYTER_OPENCODE_PERMISSIONS", "notebook=deny")
    monkeypatch.setenv("JUPYTER_OPENCODE_ALLOWED_MCP_SERVERS", "")
    policy = OpencodePolicy()
    assert policy.allows_model("b/anything") and not policy.allows_model("a/y")
    assert policy.permissions == {"notebook": "deny"}
    assert policy.allowed_mcp_servers == []
    assert not policy.allows_always()
    from traitlets.config import Config

    config = Config({"OpencodePolicy": {"allowed_models": ["c/z"]}})
    assert OpencodePolicy(config=config).allowed_models == ["c/z"]  # config wins
    with pytest.raises(Exception, match="permissions"):
        OpencodePolicy(permissions={"bash": "sometimes"})


class TestPermissionFloor:
    """The user's config allows commands; the policy says ask, and 'always' does not stick."""

    @pytest.fixture
    def jp_server_config(
        self, jp_server_config: dict[str, Any], tmp_path: Path, fake_model: FakeModelProcess
    ) -> dict[str, Any]:
        """bash: allow in the user's config, ask in the policy."""
        path = tmp_path / "opencode.json"
        path.write_text(json.dumps(opencode_config(fake_model.url, ask_bash=False)))
        jp_server_config["OpencodeExtension"]["opencode_config"] = str(path)
        jp_server_config["OpencodePolicy"] = {"permissions": {"bash": "ask"}}
        return jp_server_config

    async def test_always_counts_as_once(self, api: Api, open_stream: Opener) -> None:
        stream = await open_stream()
        sid = "session-policy-always"
        stream.subscribe(sid)
        for turn in range(2):
            await api.prompt(sid, "[[tool]] run something")
            asked = await stream.until(lambda f: f.get("kind") == "permission")
            permission = asked[-1]["permission"]
            assert permission["permission"] == "bash", turn
            code, body = await api.call(
                "POST", "sessions", sid, "permissions", permission["id"], body={"reply": "always"}
            )
            assert (code, body) == (200, {"reply": "once"})
            frames = await stream.until(final(sid))
            assert frames[-1]["message"]["status"] == "complete"
