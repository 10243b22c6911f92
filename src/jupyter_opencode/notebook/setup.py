"""Wiring the notebook tools into the extension: objects, worker token, worker config."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from ..worker.environment import (
    ProviderChoice,
    notebook_tools_overlay,
    private_dir,
    read_config,
    write_private,
)
from .approvals import CHANGE_TOOLS, Approvals
from .live import LiveDocuments
from .mcp import INSTRUCTIONS
from .records import NotebookRecords
from .tools import READ_TOOLS, NotebookTools

if TYPE_CHECKING:
    from ..server.app import OpencodeExtension

APPROVAL_TIMEOUT = 600.0


def install(app: OpencodeExtension) -> NotebookTools:
    """Create the tools of this server, hook their approvals into the chat service."""
    records = NotebookRecords(app.store)

    async def reply(permission_id: str, reply: str, message: str | None) -> None:
        client = await app.supervisor.ready()
        await client.reply_permission(permission_id, reply, message)

    async def preview(tool: str, args: dict[str, object]) -> dict[str, object]:
        return await tools.preview(tool, dict(args))

    approvals = Approvals(records, preview, reply, APPROVAL_TIMEOUT)
    tools = NotebookTools(app.server, LiveDocuments(), records, approvals)
    app.service.permissions = approvals
    app.settings.update(
        jupyter_opencode_notebook_tools=tools,
        jupyter_opencode_worker_token=secrets.token_urlsafe(32),
    )
    return tools


def with_notebook_tools(app: OpencodeExtension, choice: ProviderChoice) -> ProviderChoice:
    """The worker's config with the ``jupyter`` MCP server merged over the user's own.

    The server is this Jupyter server's ``notebook/mcp`` route, reached over HTTP with the
    worker's token: the worker connects to it at start, with no process to spawn.
    """
    user = read_config(choice.config_path)
    instructions = Path(app.worker_home) / "notebook-tools.md"
    private_dir(instructions.parent)
    write_private(instructions, f"# Notebooks\n\n{INSTRUCTIONS}\n".encode())
    server = {
        "type": "remote",
        "url": app.server.connection_url.rstrip("/") + "/opencode/notebook/mcp",
        "headers": {"Authorization": f"token {app.settings['jupyter_opencode_worker_token']}"},
        "oauth": False,
    }
    overlay = notebook_tools_overlay(
        user,
        server,
        CHANGE_TOOLS,
        READ_TOOLS,
    )
    theirs = user.get("instructions")
    overlay["instructions"] = [*(theirs if isinstance(theirs, list) else []), str(instructions)]
    return dataclasses.replace(choice, overlay=overlay)
