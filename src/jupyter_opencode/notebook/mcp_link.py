"""What the worker's MCP server is told: how it reaches the Jupyter server, what the agent reads.

Kept apart from ``mcp_server`` so that the Jupyter server never imports the MCP SDK: only the
stdio command the worker runs does.
"""

from __future__ import annotations

URL_ENV = "JUPYTER_OPENCODE_URL"
TOKEN_ENV = "JUPYTER_OPENCODE_WORKER_TOKEN"
APPROVAL_MINUTES = 10
INSTRUCTIONS = (
    "Notebooks (.ipynb) are changed only with these tools, never with file edits: a notebook"
    " may be open in the user's browser. `path` is relative to the Jupyter root; `cell` is a"
    " cell index or a cell id. Every change and run waits for the user's approval (up to"
    f" {APPROVAL_MINUTES} minutes, then it is rejected); each result shows the cell as re-read"
    " after the change. A rejected change was not made."
)
