"""Browser check of the built labextension: `python js/lab/browser_check.py` after `npm run build`.

Starts JupyterLab in a temp dir with the build output linked in through JUPYTER_PATH, then drives
Debian's Chromium with Playwright: the insert-cell event and the insert-cell-below command.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect, sync_playwright

OUTPUT = Path(__file__).resolve().parents[2] / "src" / "jupyter_opencode" / "labextension"
SHOTS = Path(os.environ.get("LABSHOTS", "/tmp/labshots"))
TOKEN = "bridgetoken"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BUTTON_CELL = "from IPython.display import HTML\nHTML('<button id=\"x\">x</button>')"
SOURCES = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
  .map(c => [c.getSource(), c.cell_type === 'code' ? c.execution_count : null])"""
DISPATCH = """([selector, code, run]) => {
  const detail = {code, run, handled: false};
  document.querySelector(selector).dispatchEvent(new CustomEvent('jupyter-opencode:insert-cell',
    {bubbles: true, composed: true, cancelable: true, detail}));
  return detail.handled;
}"""


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_lab(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """Start an isolated JupyterLab that loads the build output and wait until it answers."""
    share = tmp / "prefix" / "share" / "jupyter"
    (share / "labextensions").mkdir(parents=True)
    (share / "labextensions" / "jupyter-opencode").symlink_to(OUTPUT)
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    root = tmp / "root"
    root.mkdir()
    env = dict(
        os.environ,
        JUPYTER_PATH=str(share),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (tmp / "lab.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/lab/api/settings?token={TOKEN}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise RuntimeError(f"JupyterLab did not start, see {tmp / 'lab.log'}")


def wait_ready(page: Page) -> None:
    """Wait until the notebook has a kernel and it is idle."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    kernel = page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")
    expect(kernel).not_to_have_text("No Kernel", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def check(page: Page) -> None:
    """Run the bridge checks on the open notebook."""
    assert page.evaluate(
        "() => window.jupyterapp.commands.hasCommand('jupyter-opencode:insert-cell-below')"
    )
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(".jp-OutputArea-output button#x", timeout=30_000)

    page.evaluate("() => document.body.appendChild(document.createElement('div')).id = 'out'")
    assert page.evaluate(DISPATCH, ["#out", "nope = 1", False]) is False
    assert len(page.evaluate(SOURCES)) == 2

    assert page.evaluate(DISPATCH, ["button#x", "y = 6 * 7", False]) is True
    assert page.evaluate(SOURCES)[1:] == [["y = 6 * 7", None], ["marker = 'second'", None]]
    page.screenshot(path=SHOTS / "bridge-1-inserted.png")

    assert page.evaluate(DISPATCH, ["button#x", "print(6 * 7)", True]) is True
    output = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")
    expect(output).to_have_text("42", timeout=30_000)
    page.wait_for_function(f"() => ({SOURCES})()[1][1] !== null")
    assert [s for s, _ in page.evaluate(SOURCES)][1:] == [
        "print(6 * 7)",
        "y = 6 * 7",
        "marker = 'second'",
    ]
    page.screenshot(path=SHOTS / "bridge-2-ran.png")

    page.evaluate("""() => {
      const host = document.querySelector('button#x').parentElement
        .appendChild(document.createElement('div'));
      host.id = 'host';
      host.attachShadow({mode: 'open'}).innerHTML = '<button id="inner">in</button>';
    }""")
    assert page.evaluate("""() => {
      const detail = {code: 'shadow = 1', run: false, handled: false};
      document.querySelector('#host').shadowRoot.querySelector('#inner').dispatchEvent(
        new CustomEvent('jupyter-opencode:insert-cell', {bubbles: true, composed: true, detail}));
      return detail.handled;
    }""")
    assert page.evaluate(SOURCES)[1][0] == "shadow = 1"

    page.evaluate(
        "() => window.jupyterapp.commands.execute('jupyter-opencode:insert-cell-below',"
        " {code: 'print(\"from command\")', run: true})"
    )
    output = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea-output")
    expect(output).to_have_text("from command", timeout=30_000)
    assert [s for s, _ in page.evaluate(SOURCES)] == [
        BUTTON_CELL,
        "shadow = 1",
        'print("from command")',
        "print(6 * 7)",
        "y = 6 * 7",
        "marker = 'second'",
    ]
    page.screenshot(path=SHOTS / "bridge-3-command.png")


def main() -> None:
    """Start JupyterLab, open a notebook and check the bridge end to end."""
    if not (OUTPUT / "package.json").is_file():
        sys.exit(f"{OUTPUT} is not built: run `npm run build` in js/lab")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        port = free_port()
        proc = start_lab(tmp, port)
        try:
            notebook = nbformat.v4.new_notebook()
            notebook.cells = [
                nbformat.v4.new_code_cell(BUTTON_CELL),
                nbformat.v4.new_code_cell("marker = 'second'"),
            ]
            notebook.metadata["kernelspec"] = {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
            nbformat.write(notebook, tmp / "root" / "bridge.ipynb")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                started = time.monotonic()
                page.goto(f"http://127.0.0.1:{port}/lab/tree/bridge.ipynb?token={TOKEN}&reset")
                wait_ready(page)
                check(page)
                browser.close()
            assert not errors, errors
            print(f"bridge OK in {time.monotonic() - started:.1f}s; screenshots in {SHOTS}")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
