"""``@NAME`` of a subagent in a prompt: opencode hands that part of the work to the subagent."""

from __future__ import annotations

import re
from typing import Any

_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_-]{1,64})\b")


def subagent_mentions(text: str, agents: list[dict[str, Any]]) -> list[str]:
    """The subagents the text mentions as ``@name``, in order, each once."""
    subagents = {a.get("name") for a in agents if a.get("mode") in ("subagent", "all")}
    found: list[str] = []
    for name in _MENTION.findall(text):
        if name in subagents and name not in found:
            found.append(name)
    return found
