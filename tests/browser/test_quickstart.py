"""The quickstart notebook in JupyterLab: ask about a failing cell, stream, insert, reload."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .lab import QUICKSTART, Lab, run_lab, shot, wait_kernel_idle, watched_page

pytestmark = pytest.mark.browser

QUESTION = "why does the cell above fail?"
SLOW = "[[slow:12:0.05]]"
XSS = '<img src=x onerror="window.__pwned=1">'
SOURCES = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
  .map(c => ({type: c.cell_type, source: c.getSource()}))"""
# Records each distinct text length of the newest assistant message as the DOM changes.
WATCH_STREAM = """() => {
  const chat = document.querySelector('.jo-chat');
  window.__lengths = [];
  new MutationObserver(() => {
    const bodies = chat.querySelectorAll('.jo-msg.jo-assistant .jo-body');
    const n = bodies.length ? bodies[bodies.length - 1].textContent.length : 0;
    if (window.__lengths[window.__lengths.length - 1] !== n) window.__lengths.push(n);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab with a copy of the quickstart, on the fake model."""
    with run_lab(tmp_path_factory.mktemp("lab"), fake_model.url) as lab:
        shutil.copy(QUICKSTART, lab.root / "quickstart.ipynb")
        yield lab


@pytest.fixture(scope="module")
def page(browser: Browser, lab: Lab) -> Iterator[Page]:
    """One tab on the quickstart, kept across the tests of this module (they build on it)."""
    with watched_page(browser, viewport={"width": 1280, "height": 1000}) as page:
        page.goto(lab.notebook_url("quickstart.ipynb"))
        wait_kernel_idle(page)
        yield page


def cells(page: Page) -> list[dict[str, str]]:
    """Type and source of every cell of the open notebook."""
    return page.evaluate(SOURCES)


def chat_index(page: Page) -> int:
    """Index of the cell that shows the chat panel."""
    return next(i for i, c in enumerate(cells(page)) if "Chat()" in c["source"])


def run_cell(page: Page, index: int) -> None:
    """Run cell `index` with Shift+Enter and wait until the kernel is done with it."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"), timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def assistant(page: Page, index: int) -> Locator:
    """The `index`-th assistant message of the chat panel."""
    return page.locator(".jo-chat .jo-msg.jo-assistant").nth(index)


def ask(page: Page, text: str) -> None:
    """Type `text` into the panel's Message box and press Enter."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def test_ask_about_failing_cell_and_insert_code(page: Page) -> None:
    """Run up to the panel, ask about the KeyError, watch it stream, insert the code below."""
    chat = chat_index(page)
    for index, cell in enumerate(cells(page)[: chat + 1]):
        if cell["type"] == "code":
            run_cell(page, index)
    failing = page.locator(".jp-Notebook .jp-Cell").nth(chat - 2)
    expect(failing.locator(".jp-OutputArea-output")).to_contain_text("KeyError")
    panel = page.locator(".jo-chat")
    expect(panel).to_be_visible()
    expect(panel.locator(".jo-banner")).to_be_hidden(timeout=30_000)
    expect(panel.locator(".jo-chip")).to_contain_text("KeyError")
    panel.scroll_into_view_if_needed()
    shot(page, "1-panel-ready")

    ask(page, QUESTION)
    answer = assistant(page, 0)
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    body = answer.locator(".jo-body")
    expect(body).to_contain_text(f"You asked: {QUESTION}")
    expect(body).to_contain_text("The last cell raised KeyError: 'colour'")
    expect(page.locator(".jo-chat .jo-msg.jo-user .jo-msg-ctx")).to_contain_text("KeyError")
    expect(page.locator(".jo-chat .jo-chip")).to_have_count(0)
    shot(page, "2-answered")

    code = answer.locator(".jo-code pre > code").first.inner_text()
    assert code.strip() == "print(list(df.keys()))"
    answer.get_by_role("button", name="Insert as cell").first.click()
    expect(answer.locator(".jo-code-note").first).to_have_text("Inserted below")
    after = cells(page)
    assert after[chat + 1] == {"type": "code", "source": code.rstrip("\n")}
    trusted = page.evaluate(
        "i => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells[i]"
        ".getMetadata('trusted')",
        chat + 1,
    )
    assert trusted is False, "model-written code must not be a trusted cell"
    inserted = page.locator(".jp-Notebook .jp-Cell").nth(chat + 1)
    expect(inserted.locator(".jp-InputArea-editor")).to_contain_text(code.strip())
    inserted.scroll_into_view_if_needed()
    shot(page, "3-inserted")

    # The suggested code is the first step of the fix: it shows the column is "color".
    run_cell(page, chat + 1)
    expect(inserted.locator(".jp-OutputArea-output")).to_have_text("['fruit', 'color', 'price']")


def test_reply_streams_in_pieces(page: Page) -> None:
    """A paced reply reaches the DOM in several updates, not all at the end."""
    page.evaluate(WATCH_STREAM)
    ask(page, f"{SLOW} stream check")
    answer = assistant(page, 1)
    expect(answer.locator(".jo-body")).to_contain_text("s3 ", timeout=60_000)
    shot(page, "4-streaming")
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    final = expected_text(SLOW)
    expect(answer.locator(".jo-body")).to_have_text(final)
    lengths = page.evaluate("window.__lengths")
    partial = [n for n in lengths if 0 < n < len(final)]
    assert len(partial) >= 3, f"the reply did not stream in pieces: text lengths {lengths}"


def test_conversation_survives_reload(page: Page) -> None:
    """Saved and reloaded, the panel shows the same conversation from the live kernel."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0, timeout=10_000)
    page.reload()
    wait_kernel_idle(page)
    panel = page.locator(".jo-chat")
    expect(panel).to_be_visible(timeout=30_000)
    users = panel.locator(".jo-msg.jo-user .jo-body")
    expect(users).to_have_text([QUESTION, f"{SLOW} stream check"], timeout=30_000)
    expect(assistant(page, 0).locator(".jo-body")).to_contain_text("KeyError: 'colour'")
    expect(assistant(page, 0).get_by_role("button", name="Insert as cell")).to_be_visible()
    expect(panel.get_by_role("textbox", name="Message")).to_be_enabled()
    panel.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # messages use content-visibility: let Chromium paint them
    shot(page, "5-reloaded")


def test_html_in_a_reply_is_inert(page: Page) -> None:
    """A reply quoting an <img onerror> shows it as text and runs nothing."""
    ask(page, XSS)
    answer = assistant(page, 2)
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    expect(answer.locator(".jo-body")).to_contain_text(f"You asked: {XSS}")
    expect(page.locator(".jo-chat .jo-msg.jo-user .jo-body").nth(2)).to_have_text(XSS)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[onerror]").count() == 0
    assert page.locator(".jo-chat img").count() == 0
    shot(page, "6-inert-html")
