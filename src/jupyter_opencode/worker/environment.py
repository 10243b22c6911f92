"""The isolated, offline environment and configuration the opencode worker runs with."""

from __future__ import annotations

import json
import os
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
