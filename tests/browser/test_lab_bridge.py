"""The labextension's insert bridge: only the widget's kernel asks, and only for its own code."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_lab, shot, wait_kernel_idle

pytestmark = pytest.mark.browser

BUTTON_CELL = "from IPython.display import HTML\nHTML('<button id=\"x\">x</button>')"
CHAT_CELL = "from jupyter_opencode import Chat\nchat = Chat()\nchat"
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [],
         "source": source}
        for cid, source in (("button", BUTTON_CELL), ("chat", CHAT_CELL), ("last", "marker = 1"))
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip
NOTEBOOK_JS = "window.jupyterapp.shell.currentWidget.content"
CELLS = f"""() => {NOTEBOOK_JS}.model.sharedModel.cells
  .map(c => [c.getSource(), c.cell_type === 'code' ? c.execution_count : null])"""
# The old page-level event, from the document, an output's button and the panel's own root.
OLD_EVENT = """() => {
  for (const target of [document, document.querySelector('button#x'),
                        document.querySelector('.jo-chat')]) {
    const detail = {code: 'pwned = 1', run: true, handled: false};
    target.dispatchEvent(new CustomEvent('jupyter-opencode:insert-cell',
      {bubbles: true, composed: true, cancelable: true, detail}));
  }
}"""
# What the widget model's `send` does, for a message id the conversation does not have.
FORGED_SEND = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  let modelId = null;
  for (let i = 0; i < cells.length; i++) {
    for (const output of cells.get(i).outputs.toJSON()) {
      const view = output.data && output.data['application/vnd.jupyter.widget-view+json'];
      if (view) modelId = view.model_id;
    }
  }
  const comm = panel.sessionContext.session.kernel._comms.get(modelId);
  comm.send({method: 'custom',
    content: {type: 'insert', message_id: 'no-such-message', block: 0, run: true}});
  comm.send({method: 'custom',
    content: {type: 'insert', code: 'pwned = 2', run: true}});
  return modelId;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab with a notebook showing an HTML button and a Chat panel."""
    with run_lab(tmp_path_factory.mktemp("bridge"), fake_model.url) as lab:
        (lab.root / "bridge.ipynb").write_text(json.dumps(NOTEBOOK))
        yield lab


@pytest.fixture(scope="module")
def page(lab: Lab, browser: Browser) -> Iterator[Page]:
    """The notebook open, its button and Chat cells run."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab.notebook_url("bridge.ipynb"))
    wait_kernel_idle(page)
    for index in (0, 1):
        page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000
        )
    page.wait_for_selector(".jp-OutputArea-output button#x", timeout=30_000)
    expect(page.locator(".jo-chat")).to_be_visible(timeout=30_000)
    expect(page.locator(".jo-chat .jo-banner")).to_be_hidden(timeout=30_000)
    yield page
    page.close()
    assert errors == []


def cells(page: Page) -> list[list[Any]]:
    """Source and execution count (None: never run) of every cell of the open notebook."""
    return page.evaluate(CELLS)


def test_forged_insert_requests_insert_nothing(page: Page) -> None:
    """The old DOM event does nothing, and the kernel refuses code it did not write."""
    before = cells(page)
    page.evaluate(OLD_EVENT)
    assert page.evaluate(FORGED_SEND)
    notice = page.locator(".jo-chat .jo-errors")
    expect(notice.first).to_contain_text(
        "Cannot insert: that code block is not in this conversation"
    )
    page.wait_for_timeout(1000)  # time for a wrongly accepted request to land
    assert cells(page) == before
    # The model list came from the client's thread while the kernel was idle.
    models = page.locator(".jo-chat .jo-models option").first
    expect(models).to_have_text("Demo model (offline)", timeout=30_000)  # the worker may start
    page.locator(".jo-chat").scroll_into_view_if_needed()
    shot(page, "bridge-refused")


def test_insert_cell_from_python(page: Page) -> None:
    """`chat.insert_cell` from a cell inserts below the chat's cell and runs it when asked."""
    last = page.locator(".jp-Notebook .jp-Cell").nth(2)
    editor = last.locator(".jp-InputArea-editor")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("chat.insert_cell('print(6 * 7)', run=True)")
    page.keyboard.press("Shift+Enter")
    inserted = page.locator(".jp-Notebook .jp-Cell").nth(2)
    expect(inserted.locator(".jp-OutputArea-output")).to_have_text("42", timeout=30_000)
    sources = [source for source, _ in cells(page)]
    call = "chat.insert_cell('print(6 * 7)', run=True)"
    # (Shift+Enter on the last cell also added an empty one at the end.)
    assert sources[:4] == [BUTTON_CELL, CHAT_CELL, "print(6 * 7)", call]


def test_only_the_asking_page_inserts(page: Page, lab: Lab, browser: Browser) -> None:
    """A second page on the same kernel sees the kernel's insert request and leaves it alone."""
    # Saved, so the other page shows the Chat's output (its widget model id) too.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0, timeout=10_000)
    other = browser.new_page(viewport={"width": 1300, "height": 900})
    other.goto(lab.notebook_url("bridge.ipynb"))
    wait_kernel_idle(other)
    expect(other.locator(".jo-chat")).to_be_visible(timeout=30_000)
    expect(other.locator(".jp-Notebook .jp-Cell")).to_have_count(len(cells(other)))
    theirs = cells(other)
    ours = cells(page)
    page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-InputArea-editor").click()
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".requestExecute({code: \"chat.insert_cell('from_this_page = 1')\"})"
    )
    expect(page.locator(".jp-Notebook .jp-Cell").nth(2)).to_contain_text("from_this_page = 1")
    assert len(cells(page)) == len(ours) + 1
    other.wait_for_timeout(1000)
    assert cells(other) == theirs
    other.close()


def test_insert_cell_below_command(page: Page) -> None:
    command = "jupyter-opencode:insert-cell-below"
    assert page.evaluate(f"() => window.jupyterapp.commands.hasCommand('{command}')")
    before = cells(page)
    active = page.evaluate(f"() => {NOTEBOOK_JS}.activeCellIndex")
    page.evaluate(
        f"() => window.jupyterapp.commands.execute('{command}',"
        " {code: 'print(\"from command\")', run: true})"
    )
    output = page.locator(".jp-Notebook .jp-Cell").nth(active + 1).locator(".jp-OutputArea-output")
    expect(output).to_have_text("from command", timeout=30_000)
    sources = [source for source, _ in cells(page)]
    assert sources == [s for s, _ in before[: active + 1]] + ['print("from command")'] + [
        s for s, _ in before[active + 1 :]
    ]
    shot(page, "bridge-command")


def test_panel_settles_while_a_cell_sleeps(page: Page) -> None:
    """An answer asked in the panel streams and ends (status, busy) while a cell still runs."""
    panel = page.locator(".jo-chat")
    box = panel.get_by_role("textbox", name="Message")
    box.fill("[[slow:30:0.05]] while a cell sleeps")
    box.press("Enter")
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".requestExecute({code: 'import time; time.sleep(15)'})"
    )
    indicator = page.locator(".jp-Notebook-ExecutionIndicator")
    expect(indicator).to_have_attribute("data-status", "busy")
    expect(panel).to_have_class(re.compile(r"\bjo-busy\b"))
    expect(panel.locator(".jo-status")).to_have_text("Writing…")
    answer = panel.locator(".jo-msg.jo-assistant").last
    expect(answer.locator(".jo-body")).to_contain_text("s29", timeout=15_000)
    expect(answer).to_have_class(re.compile(r"\bjo-status-complete\b"))
    expect(panel).not_to_have_class(re.compile(r"\bjo-busy\b"))
    expect(panel.get_by_role("button", name="Send")).to_be_visible()
    assert indicator.get_attribute("data-status") == "busy", "the cell should still be sleeping"
    panel.scroll_into_view_if_needed()
    shot(page, "bridge-settled-while-busy")
    expect(indicator).to_have_attribute("data-status", "idle", timeout=30_000)
