"""The isolated, offline environment and configuration the opencode worker runs with."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .install import OFFLINE_ENV, find_rg


@dataclass(frozen=True)
class ProviderChoice:
    """Which opencode configuration the worker uses, and whether it is the offline demo model."""

    config_path: Path | None
    auth_path: Path | None
    demo: bool
    description: str
    # Merged over the chosen config by opencode itself (OPENCODE_CONFIG_CONTENT).
    overlay: dict[str, Any] | None = None


def _user_config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "opencode"


def _user_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "opencode"


def user_provider() -> ProviderChoice | None:
    """The user's own opencode configuration or login, when there is one."""
    config = next(
        (
            path
            for name in ("opencode.json", "opencode.jsonc", "config.json")
            if (path := _user_config_home() / name).is_file()
        ),
        None,
    )
    auth = _user_data_home() / "auth.json"
    auth_path = auth if auth.is_file() else None
    if config is None and auth_path is None:
        return None
    found = " and ".join(str(p) for p in (config, auth_path) if p is not None)
    return ProviderChoice(
        config, auth_path, demo=False, description=f"your opencode setup ({found})"
    )


def worker_environment(home: Path, password: str, choice: ProviderChoice) -> dict[str, str]:
    """The child's environment: isolated homes, no outbound traffic, basic auth, our config."""
    env = dict(os.environ)
    for key in [k for k in env if k.startswith(("OPENCODE_", "JUPYTER_OPENCODE_"))]:
        del env[key]
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / "config",
        "XDG_DATA_HOME": home / "data",
        "XDG_CACHE_HOME": home / "cache",
        "XDG_STATE_HOME": home / "state",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env.update({key: str(path) for key, path in dirs.items()})
    env.update(OFFLINE_ENV)
    env["OPENCODE_SERVER_PASSWORD"] = password
    if choice.config_path is not None:
        env["OPENCODE_CONFIG"] = str(choice.config_path)
    if choice.overlay is not None:
        env["OPENCODE_CONFIG_CONTENT"] = json.dumps(choice.overlay)
    if choice.auth_path is not None:
        auth = home / "data" / "opencode" / "auth.json"
        auth.parent.mkdir(parents=True, exist_ok=True)
        auth.write_bytes(choice.auth_path.read_bytes())
        auth.chmod(0o600)
    rg = find_rg()
    if rg is not None:
        env["PATH"] = f"{rg.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write an opencode configuration file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


def read_config(path: Path | None) -> dict[str, Any]:
    """An opencode config file (JSON or JSONC) as a dict; {} when absent or unreadable."""
    if path is None or not path.is_file():
        return {}
    text = path.read_text(errors="replace")
    try:
        data = json.loads(_JSONC.sub(lambda m: m.group(1) or "", text))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def notebook_tools_overlay(
    user_config: dict[str, Any],
    command: list[str],
    environment: dict[str, str],
    change_tools: tuple[str, ...],
    read_tools: tuple[str, ...],
) -> dict[str, Any]:
    """The MCP server ``jupyter`` and the permissions that keep notebooks safe, over the user's.

    opencode merges objects key by key but a rule given as a string is replaced whole, so the
    user's own ``permission`` is carried over here: theirs first, ours after (the last
    matching rule wins). Its own edit tools (``edit`` covers write and patch too) may not touch
    ``*.ipynb``; every changing notebook tool asks, so the user approves each change.
    """
    theirs = user_config.get("permission")
    permission: dict[str, Any] = (
        {"*": theirs}
        if isinstance(theirs, str)
        else dict(theirs)
        if isinstance(theirs, dict)
        else {}
    )
    edit = permission.get("edit", permission.get("*", "allow"))
    edit_rules = dict(edit) if isinstance(edit, dict) else {"*": edit}
    edit_rules.pop("*.ipynb", None)
    permission["edit"] = {**edit_rules, "*.ipynb": "deny"}
    permission.update({f"jupyter_{tool}": "allow" for tool in read_tools})
    permission.update({f"jupyter_{tool}": "ask" for tool in change_tools})
    server = {"type": "local", "command": command, "environment": environment, "enabled": True}
    return {"mcp": {"jupyter": server}, "permission": permission}
