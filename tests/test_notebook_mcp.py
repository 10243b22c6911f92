"""The notebook tools' MCP route spoken to by the MCP SDK's own client, against a real server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)
TOOLS = [
    "list_notebooks", "read_notebook", "insert_cell", "edit_cell", "delete_cell", "move_cell",
    "run_cell", "list_variables",
]  # fmt: skip
# The SDK's streamable HTTP client, in a process of its own (its own loop); prints what it got.
CLIENT = """
import asyncio, json, sys
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

async def main():
    url, token = sys.argv[1:]
    http = create_mcp_http_client(headers={"Authorization": f"token {token}"})
    async with http, streamable_http_client(url, http_client=http) as (read, write):
        async with ClientSession(read, write) as session:
            started = await session.initialize()
            tools = [tool.name for tool in (await session.list_tools()).tools]
            calls = [("read_notebook", {"path": "mcp.ipynb"}),
                     ("delete_cell", {"path": "mcp.ipynb", "cell": "title"})]
            results = []
            for name, args in calls:
                result = await session.call_tool(name, args)
                results.append(result.model_dump(mode="json", by_alias=True))
            print(json.dumps({"instructions": started.instructions, "tools": tools,
                              "results": results}))

asyncio.run(main())
"""


async def test_tools_over_mcp(jp_serverapp: Any, jp_fetch: Any, jp_root_dir: Path) -> None:
    """``jp_fetch`` makes the test server listen on its port."""
    nb = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell("plot()", id="plot", execution_count=1)
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title", id="title"), plot]
    (jp_root_dir / "mcp.ipynb").write_text(nbformat.writes(nb))
    url = jp_serverapp.connection_url.rstrip("/") + "/opencode/notebook/mcp"
    token = jp_serverapp.web_app.settings["jupyter_opencode_worker_token"]
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, url, token, stdout=subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(client.communicate(), 120)
    got = json.loads(out)
    assert got["tools"] == TOOLS
    assert "never with file edits" in got["instructions"]
    read, refused = got["results"]
    assert not read["isError"]
    text, image = read["content"]
    assert "--- cell 0 id=title type=markdown\n# Title" in text["text"]
    assert "[image: image/png]" in text["text"]
    assert (image["type"], image["mimeType"], image["data"]) == ("image", "image/png", PNG)
    assert refused["isError"]
    assert "was not approved by the user" in refused["content"][0]["text"]
    assert len(nbformat.read(jp_root_dir / "mcp.ipynb", as_version=4).cells) == 2


async def test_mcp_route_answers_the_worker_only(jp_fetch: Any) -> None:
    """Jupyter's own token is not the worker's: 403, in the JSON every route answers."""
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("opencode", "notebook", "mcp", method="POST", body=json.dumps(ping))
    assert refused.value.code == 403 and refused.value.response is not None
    assert json.loads(refused.value.response.body)["reason"] == "forbidden"


async def test_mcp_route_speaks_json_rpc(jp_serverapp: Any, jp_fetch: Any) -> None:
    token = jp_serverapp.web_app.settings["jupyter_opencode_worker_token"]
    headers = {"Authorization": f"token {token}"}

    async def post(message: Any) -> Any:
        body = json.dumps(message)
        response = await jp_fetch("opencode", "notebook", "mcp", method="POST", body=body,
                                  headers=headers)  # fmt: skip
        return response.code, json.loads(response.body) if response.body else None

    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert await post(notification) == (202, None)
    code, unknown = await post({"jsonrpc": "2.0", "id": 7, "method": "resources/list"})
    assert (code, unknown["id"], unknown["error"]["code"]) == (200, 7, -32601)
    _, bad_tool = await post(
        {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "rm"}}
    )
    assert bad_tool["error"]["code"] == -32602
    _, not_rpc = await post([1, 2])
    assert not_rpc["error"]["code"] == -32600
    _, failed = await post(
        {"jsonrpc": "2.0", "id": 9, "method": "tools/call",
         "params": {"name": "read_notebook", "arguments": {"path": "../x.ipynb"}}}
    )  # fmt: skip
    assert failed["result"]["isError"]
    assert "is not a notebook path" in failed["result"]["content"][0]["text"]
