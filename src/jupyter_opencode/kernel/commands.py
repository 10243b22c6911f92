"""The slash commands the kernel executes for the panel.

What a command is called, its help, and how its argument is read and checked live in one
registry for both hosts (js/src/commands.js); the panel sends the kernel a ``command`` message
for those it runs here: what needs the kernel (``context``: the executed cells), or what the
panel reaches the server for through it.
"""

from __future__ import annotations

KERNEL_COMMANDS = ("context", "export", "search", "rename", "star", "tag", "template", "compact")
MAX_CONTEXT_CELLS = 50


class CommandError(ValueError):
    """A slash command that cannot be run as sent."""


def context_count(arg: str) -> int:
    """The N of `/context N` (the panel checked it; the comm is checked again)."""
    if not arg:
        return 1
    try:
        count = int(arg)
    except ValueError:
        raise CommandError(f'/context expects a number of cells, not "{arg}".') from None
    if not 1 <= count <= MAX_CONTEXT_CELLS:
        raise CommandError(f"/context expects a number of cells between 1 and {MAX_CONTEXT_CELLS}.")
    return count
