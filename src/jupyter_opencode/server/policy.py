"""What an administrator allows: models, permission modes users cannot loosen, MCP servers.

Set as traits of ``OpencodePolicy`` in ``jupyter_server_config`` or, where config files are
hard to reach (a container image, a spawner's environment), by environment variables
``JUPYTER_OPENCODE_ALLOWED_PROVIDERS``, ``JUPYTER_OPENCODE_ALLOWED_MODELS``,
``JUPYTER_OPENCODE_PERMISSIONS`` (``edit=ask,bash=deny,notebook=ask``) and
``JUPYTER_OPENCODE_ALLOWED_MCP_SERVERS``; config wins over the environment.
"""

from __future__ import annotations

import dataclasses
import os
from fnmatch import fnmatchcase
from typing import Any

from traitlets import Dict, List, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..worker.environment import ProviderChoice, read_config

ACTIONS = ("allow", "ask", "deny")  # from loosest to strictest
POLICY_TOOLS = ("edit", "bash", "notebook")
NOTEBOOK_TOOL_PREFIX = "jupyter_"  # the notebook tools as opencode names them


class ModelNotAllowed(Exception):
    """The administrator's policy does not allow this model."""


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def stricter(action: Any, floor: str) -> Any:
    """``action`` (a string, or a pattern -> action dict) made at least as strict as ``floor``."""
    if isinstance(action, dict):
        return {pattern: stricter(value, floor) for pattern, value in action.items()}
    if action not in ACTIONS:
        return floor
    return ACTIONS[max(ACTIONS.index(action), ACTIONS.index(floor))]


class OpencodePolicy(LoggingConfigurable):
    """The administrator's rules for every user of this server."""

    allowed_providers = List(
        Unicode(),
        help="Providers the worker may use (opencode's enabled_providers); empty: any."
        " Environment: JUPYTER_OPENCODE_ALLOWED_PROVIDERS=a,b.",
    ).tag(config=True)
    allowed_models = List(
        Unicode(),
        help="Models users may pick, as 'provider/model' or patterns like 'openai/*'; empty:"
        " any. Environment: JUPYTER_OPENCODE_ALLOWED_MODELS=a/b,c/*.",
    ).tag(config=True)
    permissions = Dict(
        value_trait=Unicode(),
        help="Least strict action per kind of change, which users cannot loosen: keys edit,"
        " bash, notebook; values ask or deny (allow leaves the user's choice)."
        " Environment: JUPYTER_OPENCODE_PERMISSIONS=edit=ask,bash=deny.",
    ).tag(config=True)
    allowed_mcp_servers = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="MCP servers of the user's opencode config that may run (the notebook tools always"
        " do); None: any. Environment: JUPYTER_OPENCODE_ALLOWED_MCP_SERVERS=a,b ('' for none).",
    ).tag(config=True)

    @default("allowed_providers")
    def _default_allowed_providers(self) -> list[str]:
        return _env_list("JUPYTER_OPENCODE_ALLOWED_PROVIDERS")

    @default("allowed_models")
    def _default_allowed_models(self) -> list[str]:
        return _env_list("JUPYTER_OPENCODE_ALLOWED_MODELS")

    @default("permissions")
    def _default_permissions(self) -> dict[str, str]:
        pairs = [item.partition("=") for item in _env_list("JUPYTER_OPENCODE_PERMISSIONS")]
        return {key.strip(): value.strip() for key, _, value in pairs}

    @default("allowed_mcp_servers")
    def _default_allowed_mcp_servers(self) -> list[str] | None:
        if "JUPYTER_OPENCODE_ALLOWED_MCP_SERVERS" not in os.environ:
            return None
        return _env_list("JUPYTER_OPENCODE_ALLOWED_MCP_SERVERS")

    @validate("permissions")
    def _validate_permissions(self, proposal: Any) -> dict[str, str]:
        for tool, action in proposal["value"].items():
            if tool not in POLICY_TOOLS or action not in ACTIONS:
                raise ValueError(
                    f"permissions: {tool}={action} is not one of {', '.join(POLICY_TOOLS)}"
                    f" = {' | '.join(ACTIONS)}"
                )
        return dict(proposal["value"])

    def allows_model(self, model: str) -> bool:
        """Whether users may pick ``model`` ('provider/model')."""
        provider = model.partition("/")[0]
        if self.allowed_providers and provider not in self.allowed_providers:
            return False
        return not self.allowed_models or any(fnmatchcase(model, p) for p in self.allowed_models)

    def check_model(self, model: str | None) -> None:
        """Raise ModelNotAllowed for a model the policy does not allow (None: the default)."""
        if model is not None and not self.allows_model(model):
            raise ModelNotAllowed(f"the administrator does not allow the model {model}")

    def allows_always(self) -> bool:
        """Whether an 'always' answer may stand; under a permission policy it counts as 'once'."""
        return all(action == "allow" for action in self.permissions.values())

    def apply(self, choice: ProviderChoice) -> ProviderChoice:
        """The worker's configuration with the policy laid over the user's own."""
        user = read_config(choice.config_path)
        overlay = dict(choice.overlay or {})
        overlay["share"] = "disabled"
        if self.allowed_providers:
            theirs = user.get("enabled_providers")
            overlay["enabled_providers"] = [
                p for p in self.allowed_providers if not isinstance(theirs, list) or p in theirs
            ]
        model = user.get("model")
        exact = [m for m in self.allowed_models if not any(c in m for c in "*?[")]
        if isinstance(model, str) and not self.allows_model(model) and exact:
            overlay["model"] = exact[0]
        if self.permissions:
            overlay["permission"] = self._permissions(dict(overlay.get("permission") or {}))
        if self.allowed_mcp_servers is not None:
            servers = dict(overlay.get("mcp") or {})
            for name in user.get("mcp") or {}:
                if name not in self.allowed_mcp_servers and name not in servers:
                    servers[name] = {"enabled": False}
            overlay["mcp"] = servers
        return dataclasses.replace(choice, overlay=overlay)

    def _permissions(self, permission: dict[str, Any]) -> dict[str, Any]:
        fallback = permission.pop("*", "allow") if isinstance(permission.get("*"), str) else None
        for tool in ("edit", "bash"):
            if tool in self.permissions:
                current = permission.get(tool, fallback or "allow")
                permission[tool] = stricter(current, self.permissions[tool])
        if "notebook" in self.permissions:
            for key, value in list(permission.items()):
                if key.startswith(NOTEBOOK_TOOL_PREFIX) and value != "allow":
                    permission[key] = stricter(value, self.permissions["notebook"])
        if fallback is not None:
            permission = {"*": fallback, **permission}
        return permission
