"""The user's and the project's own agents and commands, handed to the isolated worker.

The worker runs with ``OPENCODE_DISABLE_PROJECT_CONFIG`` and a home of its own, so opencode
reads neither the root's ``.opencode/`` nor ``~/.config/opencode/``. Only their Markdown agents
and commands are copied into the worker's config folder (the project's win on a name clash):
never a project's ``opencode.json``, so a project starts no MCP server and changes no setting,
and a project's agent loses its ``permission`` block, so it cannot loosen what the agent may do.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

KINDS = {"agent": ("agent", "agents"), "command": ("command", "commands")}
MAX_FILES = 200
MAX_BYTES = 256 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(\n|\Z)", re.DOTALL)
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def without_permissions(text: str) -> str:
    """A Markdown agent whose front matter has no ``permission`` key (nor what it holds)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text
    kept: list[str] = []
    dropping = False
    for line in match.group(1).splitlines(keepends=True):
        key = _TOP_KEY.match(line)
        if key is not None:
            dropping = key.group(1).lower() == "permission"
        elif line.strip() and not line[0].isspace():
            dropping = False
        if not dropping:
            kept.append(line)
    return f"---\n{''.join(kept)}---{match.group(2)}{text[match.end() :]}"


def _markdown(folder: Path) -> list[tuple[Path, Path]]:
    """(file, path relative to the folder) of the Markdown files under a folder."""
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.rglob("*.md") if p.is_file() and not p.is_symlink())
    return [(p, p.relative_to(folder)) for p in found]


def copy_markdown(target: Path, user_home: Path, project_root: Path) -> list[str]:
    """Fill the worker's ``agent/`` and ``command/`` folders; return what was copied."""
    copied: list[str] = []
    for kind, names in KINDS.items():
        into = target / kind
        shutil.rmtree(into, ignore_errors=True)
        for base, trusted in ((user_home, True), (project_root / ".opencode", False)):
            for name in names:
                for path, relative in _markdown(base / name):
                    if len(copied) >= MAX_FILES or path.stat().st_size > MAX_BYTES:
                        continue
                    text = path.read_text(errors="replace")
                    if kind == "agent" and not trusted:
                        text = without_permissions(text)
                    destination = into / relative
                    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    destination.write_text(text)
                    copied.append(str(path))
    return copied
