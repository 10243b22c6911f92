"""Slash commands typed in the chat panel."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = {
    "new": "/new: start a new conversation",
    "clear": "/clear: start a new conversation and drop the pending context",
    "fork": "/fork: continue in a copy of this conversation",
    "context": "/context N: attach the last N executed cells (default 1)",
    "model": "/model ID: use model ID (without ID: list the models)",
    "rename": "/rename TITLE: rename this conversation",
    "search": "/search WORDS: search every conversation",
    "star": "/star: star or unstar this conversation",
    "tag": "/tag NAME: tag this conversation (/tag -NAME removes the tag)",
    "rewind": "/rewind: take back the last exchange",
    "template": "/template NAME: start with a template (without NAME: list them)",
    "export": "/export FORMAT: download the conversation (md, txt, json, html, pdf, docx, ipynb)",
    "help": "/help: list the commands",
}

HELP_TEXT = "Commands:\n" + "\n".join(COMMANDS.values())


class CommandError(ValueError):
    """A slash command that cannot be run as typed."""


@dataclass(frozen=True)
class Command:
    """A parsed slash command."""

    name: str
    arg: str = ""


def parse_command(text: str) -> Command | None:
    """The command in `text`, None for an ordinary message; raise CommandError if unknown."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, arg = stripped[1:].partition(" ")
    name = name.lower()
    if name not in COMMANDS:
        raise CommandError(f"Unknown command /{name}. Type /help for the list.")
    return Command(name, arg.strip())


def context_count(arg: str) -> int:
    """The N of `/context N`."""
    if not arg:
        return 1
    try:
        count = int(arg)
    except ValueError:
        raise CommandError(f"/context expects a number of cells, not {arg!r}.") from None
    if not 1 <= count <= 50:
        raise CommandError("/context expects a number of cells between 1 and 50.")
    return count
