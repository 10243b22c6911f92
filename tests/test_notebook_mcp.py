"""``jupyter-opencode mcp`` spoken to by the MCP SDK's own client, against a real server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from jupyter_opencode.notebook.mcp_link import TOKEN_ENV, URL_ENV

PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)
TOOLS = [
    "list_notebooks", "read_notebook", "insert_cell", "edit_cell", "delete_cell", "move_cell",
    "run_cell", "list_variables",
]  # fmt: skip
# The SDK's stdio client, in a process of its own (its own loop); prints what it got as JSON.
CLIENT = """
import asyncio, json, os, sys
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

async def main():
    env = {k: os.environ[k] for k in (%r, %r)}
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "jupyter_opencode.cli", "mcp"], env=env)
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        calls = [("read_notebook", {"path": "mcp.ipynb"}),
                 ("delete_cell", {"path": "mcp.ipynb", "cell": "title"})]
        results = []
        for name, args in calls:
            result = await session.call_tool(name, args)
            results.append(result.model_dump(mode="json", by_alias=True))
        print(json.dumps({"tools": tools, "results": results}))

asyncio.run(main())
""" % (URL_ENV, TOKEN_ENV)  # noqa: UP031 (the script's braces stay as they are)


async def test_tools_over_stdio(jp_serverapp: Any, jp_fetch: Any, jp_root_dir: Path) -> None:
    """``jp_fetch`` makes the test server listen on its port."""
    nb = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell("plot()", id="plot", execution_count=1)
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title", id="title"), plot]
    (jp_root_dir / "mcp.ipynb").write_text(nbformat.writes(nb))
    env = {
        "PATH": "/usr/bin:/bin",
        URL_ENV: jp_serverapp.connection_url,
        TOKEN_ENV: jp_serverapp.web_app.settings["jupyter_opencode_worker_token"],
    }
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, env=env, stdout=subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(client.communicate(), 120)
    got = json.loads(out)
    assert got["tools"] == TOOLS
    read, refused = got["results"]
    assert not read["isError"]
    text, image = read["content"]
    assert "--- cell 0 id=title type=markdown\n# Title" in text["text"]
    assert "[image: image/png]" in text["text"]
    assert (image["type"], image["mimeType"], image["data"]) == ("image", "image/png", PNG)
    assert refused["isError"]
    assert "was not approved by the user" in refused["content"][0]["text"]
    assert len(nbformat.read(jp_root_dir / "mcp.ipynb", as_version=4).cells) == 2


def test_mcp_command_needs_the_worker_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_opencode.cli", "mcp"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin"},
        timeout=60,
    )
    assert done.returncode != 0
    assert f"{URL_ENV} and {TOKEN_ENV} must be set" in done.stderr
