"""opencode's agents and commands: the root's ``.opencode/`` ones, picked, remembered and run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_opencode.testing import FakeModelProcess
from jupyter_opencode.worker.project import without_permissions

from .streams import Api

REVIEWER = """---
description: Reviews code for style
mode: primary
permission:
  bash: allow
  edit:
    "*": allow
model: fake/echo-1
---
You are the reviewer agent: review the code you are shown.
"""
HELPER = "---\ndescription: Finds things\nmode: subagent\n---\nYou find things.\n"
GREET = "---\ndescription: Greets someone by name\n---\nSay hello to $ARGUMENTS politely.\n"


@pytest.fixture
def project(jp_root_dir: Path) -> Path:
    """A root with its own agents and a command, as opencode's project folder holds them."""
    folder = jp_root_dir / ".opencode"
    (folder / "agent").mkdir(parents=True)
    (folder / "command").mkdir()
    (folder / "agent" / "reviewer.md").write_text(REVIEWER)
    (folder / "agent" / "helper.md").write_text(HELPER)
    (folder / "command" / "greet.md").write_text(GREET)
    (folder / "opencode.json").write_text(json.dumps({"permission": "allow"}))
    return jp_root_dir


async def listed(jp_fetch: Any, name: str) -> list[dict[str, Any]]:
    """``GET agents`` or ``GET commands``; the first request waits for the worker to start."""
    response = await jp_fetch("opencode", name, request_timeout=120)
    assert response.code == 200
    found: list[dict[str, Any]] = json.loads(response.body)[name]
    return found


def sent_to_model(fake_model: FakeModelProcess, marker: str) -> list[dict[str, Any]]:
    """The model requests whose messages mention ``marker``."""
    return [r for r in fake_model.requests() if marker in json.dumps(r["messages"])]


def system_text(request: dict[str, Any]) -> str:
    """The system messages of one model request."""
    return json.dumps([m for m in request["messages"] if m["role"] == "system"])


async def test_project_agents_are_listed_picked_and_remembered(
    api: Api, jp_fetch: Any, project: Path, fake_model: FakeModelProcess, worker_home: Path
) -> None:
    agents = {a["name"]: a for a in await listed(jp_fetch, "agents")}
    assert agents["reviewer"] == {
        "name": "reviewer",
        "description": "Reviews code for style",
        "mode": "primary",
    }
    assert agents["helper"]["mode"] == "subagent"
    assert {"build", "plan"} <= set(agents)
    assert not {"title", "summary", "compaction"} & set(agents)  # hidden ones
    # The project's agent was handed over without its permission block.
    copied = (worker_home / "config" / "opencode" / "agent" / "reviewer.md").read_text()
    assert "permission" not in copied and "bash: allow" not in copied
    assert "You are the reviewer agent" in copied

    sid = "agent-picked"
    code, error = await api.call(
        "POST", "sessions", sid, "messages", body={"text": "hi", "agent": "nobody"}
    )
    assert (code, error["reason"]) == (404, "unknown_agent")
    code, error = await api.call(
        "POST", "sessions", sid, "messages", body={"text": "hi", "agent": "no such"}
    )
    assert (code, error["reason"]) == (400, "bad_agent")
    fake_model.clear()
    answer = await api.ask(sid, "Look at my code, first time", agent="reviewer")
    assert answer["status"] == "complete"
    later = await api.ask(sid, "And a second time")
    assert later["status"] == "complete"
    first = sent_to_model(fake_model, "Look at my code, first time")[0]
    second = sent_to_model(fake_model, "And a second time")[0]
    assert "You are the reviewer agent" in system_text(first)
    assert "You are the reviewer agent" in system_text(second)  # the session remembers it

    # @NAME of a subagent hands it the work (opencode tells the model to call its task tool).
    await api.ask(sid, "Ask @helper where the data is, not @nobody nor a@helper.org")
    asked = sent_to_model(fake_model, "Ask @helper where the data is")[0]
    assert "call the task tool with subagent: helper" in json.dumps(asked["messages"])
    assert "subagent: nobody" not in json.dumps(asked["messages"])


async def test_project_commands_are_listed_and_run(
    api: Api, jp_fetch: Any, project: Path, fake_model: FakeModelProcess
) -> None:
    commands = {c["name"]: c for c in await listed(jp_fetch, "commands")}
    assert commands["greet"] == {
        "name": "greet",
        "description": "Greets someone by name",
        "source": "command",
    }

    sid = "command-run"
    code, error = await api.call("POST", "sessions", sid, "command", body={"command": "nope"})
    assert (code, error["reason"]) == (404, "unknown_command")
    code, error = await api.call("POST", "sessions", sid, "command", body={"command": "a b"})
    assert (code, error["reason"]) == (400, "bad_command")
    fake_model.clear()
    code, body = await api.call(
        "POST", "sessions", sid, "command", body={"command": "greet", "arguments": "Ada"}
    )
    assert code == 202, body
    assert body["user_message"]["content"] == "/greet Ada"
    answer = await api.wait_status(sid, body["assistant_message"]["id"])
    assert answer["status"] == "complete"
    assert "Say hello to Ada politely." in answer["content"]
    assert sent_to_model(fake_model, "Say hello to Ada politely.")


def test_a_project_agent_loses_only_its_permission_block() -> None:
    text = without_permissions(REVIEWER)
    assert text == (
        "---\ndescription: Reviews code for style\nmode: primary\nmodel: fake/echo-1\n---\n"
        "You are the reviewer agent: review the code you are shown.\n"
    )
    assert without_permissions(HELPER) == HELPER
    assert without_permissions("no front matter\npermission: x\n") == (
        "no front matter\npermission: x\n"
    )
