"""The isolated, offline environment and configuration the opencode worker runs with."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
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
    # Set in the worker's environment last (e.g. OPENCODE_DB, where opencode keeps its database).
    environment: dict[str, str] = field(default_factory=dict)
    # Edits allowed everywhere are asked of the server instead, which reads the files first and
    # answers at once (server/filechanges.py): the reported modes stay the user's.
    ask_edits: bool = False


def user_config_home() -> Path:
    """The user's own opencode config folder (``~/.config/opencode``)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "opencode"


def _user_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "opencode"


def user_provider() -> ProviderChoice | None:
    """The user's own opencode configuration or login, when there is one."""
    config = next(
        (
            path
            for name in ("opencode.json", "opencode.jsonc", "config.json")
            if (path := user_config_home() / name).is_file()
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


# Like Jupyter AI's opencode persona: the agent asks before it edits files or runs commands.
DEFAULT_PERMISSIONS = {"edit": "ask", "bash": "ask"}


def permission_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The worker's permission settings: the config's own, plus ``ask`` where it sets none."""
    permission = config.get("permission")
    if isinstance(permission, str):
        return {"*": permission}  # one action for every tool: the user's choice stands
    own = permission if isinstance(permission, dict) else {}
    return {**DEFAULT_PERMISSIONS, **own}


def permission_modes(choice: ProviderChoice) -> dict[str, str]:
    """What the agent does before editing files and running commands: ask, allow or deny."""
    settings = permission_settings(read_config(choice.config_path))
    laid_over = (choice.overlay or {}).get("permission")
    if isinstance(laid_over, dict):
        settings = {**settings, **laid_over}
    modes = {}
    for tool in DEFAULT_PERMISSIONS:
        value = settings.get(tool, settings.get("*", "allow"))
        if isinstance(value, dict):
            value = value.get("*", "per pattern")  # the rule for every path but the listed ones
        modes[tool] = value if isinstance(value, str) else "per pattern"
    return modes


def config_overlay(choice: ProviderChoice) -> dict[str, Any]:
    """Settings laid over the worker's config file (``OPENCODE_CONFIG_CONTENT``)."""
    if choice.overlay is not None:
        return choice.overlay
    permission = permission_settings(read_config(choice.config_path))
    return {} if "*" in permission else {"permission": permission}


def private_dir(path: Path) -> None:
    """Create a folder (and its parents) that only this user can enter; 0700 if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write a file that is readable by this user only from its first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(fd, 0o600)
        file.write(data)


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
    private_dir(home)
    for path in dirs.values():
        private_dir(path)
    env.update({key: str(path) for key, path in dirs.items()})
    env.update(OFFLINE_ENV)
    env["OPENCODE_SERVER_PASSWORD"] = password
    if choice.config_path is not None:
        env["OPENCODE_CONFIG"] = str(choice.config_path)
    overlay = config_overlay(choice)
    if choice.ask_edits:
        permission = dict(overlay.get("permission") or {})
        permission["edit"] = {**permission["edit"], "*": "ask"}
        overlay = {**overlay, "permission": permission}
    if overlay:
        env["OPENCODE_CONFIG_CONTENT"] = json.dumps(overlay)
    if choice.auth_path is not None:
        auth = home / "data" / "opencode" / "auth.json"
        private_dir(auth.parent)
        write_private(auth, choice.auth_path.read_bytes())
    rg = find_rg()
    if rg is not None:
        env["PATH"] = f"{rg.parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(choice.environment)
    return env


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write an opencode configuration file, readable by this user only."""
    private_dir(path.parent)
    write_private(path, json.dumps(config, indent=2).encode())
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
    server: dict[str, Any],
    change_tools: tuple[str, ...],
    read_tools: tuple[str, ...],
) -> dict[str, Any]:
    """The MCP server ``jupyter`` (``server``'s settings) and the permissions that keep
    notebooks safe, over the user's.

    opencode merges objects key by key but a rule given as a string is replaced whole, so the
    user's own ``permission`` (with the ask defaults where it sets none) is carried over here:
    theirs first, ours after (the last matching rule wins). Its own edit tools (``edit`` covers
    write and patch too) may not touch ``*.ipynb``; every changing notebook tool asks, so the
    user approves each change.
    """
    permission = permission_settings(user_config)
    edit = permission.get("edit", permission.get("*", "allow"))
    edit_rules = dict(edit) if isinstance(edit, dict) else {"*": edit}
    edit_rules.pop("*.ipynb", None)
    permission["edit"] = {**edit_rules, "*.ipynb": "deny"}
    permission.update({f"jupyter_{tool}": "allow" for tool in read_tools})
    permission.update({f"jupyter_{tool}": "ask" for tool in change_tools})
    return {"mcp": {"jupyter": {**server, "enabled": True}}, "permission": permission}
