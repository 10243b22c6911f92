"""Notebook tools: approval -> change visible in the open notebook, and read_notebook on 500 cells.

JupyterLab runs on the fake model with a notebook open in Chromium. For each edit the fake
model asks for, the figure is the time from the user's "Allow once" (the permission reply
posted to the server) to the new source in the open notebook's shared model (a listener in
the page): opencode runs the MCP tool, which calls back into the server, which applies the
change through the labextension. ``read_notebook`` is timed at the tool route (what the MCP
server calls) on a 500-cell notebook, closed and open, against a 1-cell notebook as baseline.
The tool route takes the worker's token only: the bench reads it from the worker's environment,
where opencode's config hands it to the MCP server.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Page

from harness import Figure, print_table
from jupyter_opencode.testing import FakeModelProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser.lab import Lab, chromium, run_lab, wait_kernel_idle

BENCH = "notebook"
EDITS = 12
READS = 20
BIG_CELLS = 500
# Wall-clock ms at which cell 0 of the open notebook first holds `target`.
WATCH = """(target) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.context.model.sharedModel.cells[0];
  window.__seenAt = null;
  const check = () => {
    if (window.__seenAt === null && cell.getSource() === target) {
      window.__seenAt = performance.timeOrigin + performance.now();
    }
  };
  cell.changed.connect(check);
}"""


def write_notebook(path: Path, cells: int) -> None:
    """A notebook of `cells` code cells, each with a line of source and a short output."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(f"value_{i} = {i} * 2\nprint(value_{i})", id=f"c{i}")
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{i * 2}\n")]
        nb.cells.append(cell)
    path.write_text(nbformat.writes(nb))


def worker_token(lab: Lab) -> str:
    """The token the worker reaches the notebook tools with (from the worker's environment)."""
    pid = lab.call("GET", "opencode/status")["worker"]["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    content = next(e for e in environ if e.startswith(b"OPENCODE_CONFIG_CONTENT="))
    config = json.loads(content.split(b"=", 1)[1])
    header: str = config["mcp"]["jupyter"]["headers"]["Authorization"]
    return header.removeprefix("token ")


def call_tool(lab: Lab, token: str, tool: str, args: dict[str, Any]) -> str:
    """One tool call at the worker's MCP route, as the worker makes it: the text it answers."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": tool, "arguments": args}}  # fmt: skip
    request = urllib.request.Request(
        f"{lab.url}opencode/notebook/mcp",
        method="POST",
        data=json.dumps(message).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text: str = json.load(response)["result"]["content"][0]["text"]
    return text


def read_ms(lab: Lab, token: str, path: str) -> list[float]:
    """Round trips of read_notebook at the tool route, in ms."""
    times = []
    for _ in range(READS):
        started = time.perf_counter()
        text = call_tool(lab, token, "read_notebook", {"path": path})
        times.append((time.perf_counter() - started) * 1000)
        assert text.startswith(path)
    return times


def permission_ids(db: Path, sid: str) -> list[str]:
    """Ids of the permission prompts streamed in a session so far."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT payload FROM chunks WHERE session_id = ? AND kind = 'permission'", (sid,)
        ).fetchall()
    return [json.loads(row[0])["permission"]["id"] for row in rows]


def until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)
    return result


def answered(lab: Lab, sid: str) -> None:
    messages = f"opencode/sessions/{sid}/messages"
    until(lambda: lab.call("GET", messages)["messages"][-1]["status"] == "complete")


def approval_ms(lab: Lab, page: Page) -> list[float]:
    """ "Allow once" -> new source in the open notebook, for each edit, in ms."""
    sid = "bench-notebook-approval"
    db = lab.tmp / "sessions.db"
    times = []
    for i in range(EDITS):
        target = f"x = {i}"
        args = {"path": "edit.ipynb", "cell": 0, "source": target}
        seen = len(permission_ids(db, sid))
        lab.call(
            "POST",
            f"opencode/sessions/{sid}/messages",
            {"text": f"[[notebook edit_cell {json.dumps(args)}]]"},
        )
        pid = until(lambda n=seen: permission_ids(db, sid)[n:])[0]
        page.evaluate(WATCH, target)
        offset = clock_offset(page)
        started = time.time() * 1000
        lab.call("POST", f"opencode/sessions/{sid}/permissions/{pid}", {"reply": "once"})
        page.wait_for_function("() => window.__seenAt !== null", timeout=30_000)
        times.append(page.evaluate("window.__seenAt") - offset - started)
        answered(lab, sid)
    return times[2:]  # the first calls start the MCP server's connection pool


def clock_offset(page: Page) -> float:
    """Browser wall clock minus Python's, in ms (the sample with the shortest round trip)."""
    samples = []
    for _ in range(10):
        before = time.time() * 1000
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        samples.append((after - before, browser - (before + after) / 2))
    return min(samples)[1]


def listed_notebooks(lab: Lab, token: str) -> str:
    """What list_notebooks says (to wait until the browser reported its open notebook)."""
    return call_tool(lab, token, "list_notebooks", {})


def measure(lab: Lab) -> list[Figure]:
    """Every figure of this bench."""
    write_notebook(lab.root / "big.ipynb", BIG_CELLS)
    write_notebook(lab.root / "one.ipynb", 1)
    write_notebook(lab.root / "edit.ipynb", 3)
    lab.call("POST", "opencode/sessions/bench-warm/messages", {"text": "[[long:3]] warm up"})
    answered(lab, "bench-warm")
    token = worker_token(lab)
    one = statistics.median(read_ms(lab, token, "one.ipynb"))
    closed = statistics.median(read_ms(lab, token, "big.ipynb"))
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(lab.notebook_url("big.ipynb"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        until(lambda: "open in JupyterLab" in listed_notebooks(lab, token))
        opened = statistics.median(read_ms(lab, token, "big.ipynb"))
        page.goto(lab.notebook_url("edit.ipynb"))
        wait_kernel_idle(page)
        approvals = approval_ms(lab, page)
    note = f"1-cell read: {one:.1f} ms"
    return [
        Figure(BENCH, "approval -> change visible, median", statistics.median(approvals), "ms",
               100.0, note=f"{len(approvals)} edits, max {max(approvals):.0f} ms"),
        Figure(BENCH, f"read_notebook {BIG_CELLS} cells (file), median", closed, "ms", 300.0,
               note=note),
        Figure(BENCH, f"read_notebook {BIG_CELLS} cells (open), median", opened, "ms", 300.0,
               note=note),
    ]  # fmt: skip


def main() -> None:
    """Run JupyterLab on the fake model, measure, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="jo-bench-nb-") as name,
        FakeModelProcess() as model,
        run_lab(Path(name), model.url) as lab,
    ):
        figures = measure(lab)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures]))


if __name__ == "__main__":
    main()
