"""The labextension's insert-cell bridge: the widget's event and the insert-cell-below command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import chromium, run_lab, shot, wait_kernel_idle

pytestmark = pytest.mark.browser

BUTTON_CELL = "from IPython.display import HTML\nHTML('<button id=\"x\">x</button>')"
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [],
         "source": source}
        for cid, source in (("button", BUTTON_CELL), ("second", "marker = 'second'"))
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip
NOTEBOOK_JS = "window.jupyterapp.shell.currentWidget.content"
CELLS = f"""() => {NOTEBOOK_JS}.model.sharedModel.cells
  .map(c => [c.getSource(), c.cell_type === 'code' ? c.execution_count : null])"""
# Dispatches the widget's event from the element of `selector` (or of `inner` in its shadow root).
DISPATCH = """([selector, inner, code, run]) => {
  let target = document.querySelector(selector);
  if (inner) target = target.shadowRoot.querySelector(inner);
  const detail = {code, run, handled: false};
  target.dispatchEvent(new CustomEvent('jupyter-opencode:insert-cell',
    {bubbles: true, composed: true, cancelable: true, detail}));
  return detail.handled;
}"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Page]:
    """A notebook whose first cell, run, shows a button inside its output."""
    with run_lab(tmp_path_factory.mktemp("bridge"), fake_model.url) as lab, chromium() as browser:
        (lab.root / "bridge.ipynb").write_text(json.dumps(NOTEBOOK))
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(lab.notebook_url("bridge.ipynb"))
        wait_kernel_idle(page)
        page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".jp-OutputArea-output button#x", timeout=30_000)
        yield page
    assert errors == []


def cells(page: Page) -> list[list[Any]]:
    """Source and execution count (None: never run) of every cell of the open notebook."""
    return page.evaluate(CELLS)


def dispatch(page: Page, selector: str, code: str, run: bool, inner: str = "") -> bool:
    """Dispatch the insert-cell event; whether the bridge handled it."""
    return page.evaluate(DISPATCH, [selector, inner, code, run])


def test_event_outside_a_cell_is_not_handled(page: Page) -> None:
    before = cells(page)
    page.evaluate("() => { document.body.appendChild(document.createElement('div')).id = 'out'; }")
    assert dispatch(page, "#out", "nope = 1", run=False) is False
    assert cells(page) == before


# A look-alike of the Chat panel made by a script in an HTML output, whose button fires the
# panel's event on a real click (so a user gesture is active).
FAKE_PANEL = """() => {
  const out = document.querySelector('button#x').parentElement;
  const fake = out.appendChild(document.createElement('div'));
  fake.className = 'jo-chat';
  fake.innerHTML = '<div class="jo-code"><pre><code>pwned = 1</code></pre></div>'
    + '<button id="fake-insert">insert</button>';
  fake.querySelector('#fake-insert').onclick = () => {
    const detail = {code: 'pwned = 1', run: true, handled: false};
    fake.dispatchEvent(new CustomEvent('jupyter-opencode:insert-cell',
      {bubbles: true, composed: true, cancelable: true, detail}));
    window.__fakeHandled = detail.handled;
  };
}"""


def test_forged_insert_requests_are_refused(page: Page) -> None:
    """Only the Chat panel may insert: not an output's script, not a look-alike, not a shadow."""
    before = cells(page)
    assert dispatch(page, "button#x", "y = 6 * 7", run=True) is False
    page.evaluate("""() => {
      const host = document.querySelector('button#x').parentElement
        .appendChild(document.createElement('div'));
      host.id = 'host';
      host.attachShadow({mode: 'open'}).innerHTML = '<button id="inner">in</button>';
    }""")
    assert dispatch(page, "#host", "shadow = 1", run=False, inner="#inner") is False
    page.evaluate(FAKE_PANEL)
    page.click("#fake-insert")
    assert page.evaluate("window.__fakeHandled") is False
    assert cells(page) == before


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
