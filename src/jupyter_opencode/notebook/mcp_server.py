"""``jupyter-opencode mcp``: the stdio MCP server of the notebook tools, run by the worker.

Each tool forwards its arguments to the Jupyter server (``opencode/notebook/tools/NAME``)
with the token made for the worker; the server does the work and answers text and images.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent

from .mcp_link import INSTRUCTIONS, TOKEN_ENV, URL_ENV

Content = list[TextContent | ImageContent]


class JupyterCallback:
    """HTTP calls back into the Jupyter server, with the worker's token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"token {token}"}, timeout=httpx.Timeout(900.0)
        )

    async def call(self, tool: str, args: dict[str, Any]) -> Content:
        """Run a tool on the server; its error message becomes the tool's error."""
        url = f"{self.base_url}opencode/notebook/tools/{tool}"
        try:
            response = await self._client.post(url, json=args)
        except httpx.HTTPError as e:
            raise ToolError(f"the Jupyter server could not be reached: {e}") from e
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:500]}
        if response.status_code != 200:
            raise ToolError(str(body.get("message") or f"HTTP {response.status_code}"))
        content: Content = [TextContent(type="text", text=str(body["text"]))]
        content += [
            ImageContent(type="image", data=image["data"], mime_type=image["mime"])
            for image in body.get("images") or []
        ]
        return content


def build_server(jupyter: JupyterCallback) -> MCPServer:
    """The MCP server with the notebook tools."""
    server: MCPServer = MCPServer("jupyter", instructions=INSTRUCTIONS)

    @server.tool()
    async def list_notebooks() -> Content:
        """List the notebooks open in JupyterLab or with a running kernel."""
        return await jupyter.call("list_notebooks", {})

    @server.tool()
    async def read_notebook(path: str, start: int = 0, end: int | None = None) -> Content:
        """Read cells start..end (end excluded; all by default): index, id, type, source,
        execution count and outputs (long outputs are truncated with a marker; images are
        returned as images). Reads the open document when the notebook is open."""
        return await jupyter.call("read_notebook", {"path": path, "start": start, "end": end})

    @server.tool()
    async def insert_cell(path: str, index: int, source: str, cell_type: str = "code") -> Content:
        """Insert a new cell (code, markdown or raw) at `index` (0 = first, number of cells =
        last). Needs the user's approval."""
        args = {"path": path, "index": index, "source": source, "cell_type": cell_type}
        return await jupyter.call("insert_cell", args)

    @server.tool()
    async def edit_cell(path: str, cell: int | str, source: str) -> Content:
        """Replace the source of a cell (an index or a cell id). Needs the user's approval."""
        return await jupyter.call("edit_cell", {"path": path, "cell": cell, "source": source})

    @server.tool()
    async def delete_cell(path: str, cell: int | str) -> Content:
        """Delete a cell (an index or a cell id). Needs the user's approval."""
        return await jupyter.call("delete_cell", {"path": path, "cell": cell})

    @server.tool()
    async def move_cell(path: str, cell: int | str, index: int) -> Content:
        """Move a cell (an index or a cell id) to position `index`. Needs the user's approval."""
        return await jupyter.call("move_cell", {"path": path, "cell": cell, "index": index})

    @server.tool()
    async def run_cell(path: str, cell: int | str, timeout: float = 60) -> Content:
        """Run a code cell in the notebook's kernel, as if the user ran it (its outputs appear
        in the notebook), and return its outputs. Needs the user's approval."""
        args = {"path": path, "cell": cell, "timeout": timeout}
        return await jupyter.call("run_cell", args)

    @server.tool()
    async def list_variables(path: str) -> Content:
        """List the variables of the notebook's kernel: names, types, short summaries
        (DataFrames with shape and columns)."""
        return await jupyter.call("list_variables", {"path": path})

    return server


def main() -> int:
    """Serve the notebook tools on stdio until the worker closes the pipe."""
    url, token = os.environ.get(URL_ENV), os.environ.get(TOKEN_ENV)
    if not url or not token:
        raise SystemExit(f"{URL_ENV} and {TOKEN_ENV} must be set (the worker's config sets them)")
    build_server(JupyterCallback(url, token)).run("stdio")
    return 0
