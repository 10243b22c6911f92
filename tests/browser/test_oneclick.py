"""One click from an error, an output or a cell to the chat, in JupyterLab and Notebook 7."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_lab, shot, wait_kernel_idle, watched_page
from .test_mentions import plot_png
from .test_sidebar import set_theme

pytestmark = pytest.mark.browser

CHAT = "from jupyter_opencode import Chat\nchat = Chat()\nchat"
DATA = 'd = {"color": "red", "size": 2}\nd'
FAILING = 'd["colour"].upper()'
PLAIN = "plain.ipynb"  # no chat panel: questions go to a tab
PANEL = "panel.ipynb"  # a chat panel in its first cell
PLOT = "plot.ipynb"  # a saved plot output, no chat panel
TAB = ".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab"
# Notebook 7.6's shortcut settings throw this while loading, with this extension disabled too.
NOTEBOOK7_OWN_ERROR = "Cannot read properties of undefined (reading 'schema')"


def write(root: Path, name: str, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"c{i}") for i, s in enumerate(sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (root / name).write_text(nbformat.writes(nb))


def run_cells(page: Page, count: int) -> None:
    """Run the first `count` cells of the open notebook, one by one."""
    wait_kernel_idle(page)
    cells = page.locator(".jp-Notebook .jp-Cell")
    for i in range(count):
        cells.nth(i).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        expect(cells.nth(i).locator(".jp-InputPrompt")).to_contain_text(re.compile(r"\[\d+\]"))


def error_output(page: Page, cell: int) -> Locator:
    output = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-OutputArea-child")
    expect(output.first).to_contain_text("KeyError")
    return output.first


def last_answer(chat: Locator) -> str:
    message = chat.locator(".jo-msg.jo-assistant").last
    expect(message).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    return message.locator(".jo-body").inner_text()


def sent_to_model(fake_model: FakeModelProcess) -> str:
    asked = [r for r in fake_model.requests() if "title generator" not in json.dumps(r)]
    return json.dumps(asked[-1]["messages"]) if asked else ""


def source_of(page: Page, cell: int) -> str:
    return page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
        ".model.sharedModel.getSource()",
        cell,
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    with run_lab(tmp_path_factory.mktemp("oneclick"), fake_model.url) as lab:
        write(lab.root, PLAIN, [DATA, FAILING])
        write(lab.root, PANEL, [CHAT, DATA, FAILING])
        plotted = nbformat.v4.new_code_cell("plt.plot(x)", id="p0", execution_count=1)
        plotted.outputs = [
            nbformat.v4.new_output("display_data", {"image/png": plot_png(), "text/plain": "plot"})
        ]
        nb = nbformat.v4.new_notebook(cells=[plotted])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        (lab.root / PLOT).write_text(nbformat.writes(nb))
        yield lab


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page; no page errors but Notebook 7's own."""
    with watched_page(browser, ignore=[NOTEBOOK7_OWN_ERROR]) as page:
        yield page


def test_explain_and_fix_go_to_a_tab_for_a_notebook_without_panel(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    page.goto(lab.notebook_url(PLAIN))
    run_cells(page, 2)
    output = error_output(page, 1)
    explain = output.get_by_role("button", name=re.compile("Explain"))
    fix = output.get_by_role("button", name=re.compile("Fix"))
    expect(explain).to_be_visible()
    expect(fix).to_be_visible()
    output.hover()
    shot(page, "oneclick-error-buttons-light")

    fake_model.clear()
    explain.click()
    tab = page.locator(TAB)
    expect(tab).to_be_visible(timeout=30_000)
    said = last_answer(tab)
    assert "KeyError" in said
    chips = tab.locator(".jo-msg.jo-user").last.locator(".jo-msg-ctx")
    expect(chips).to_have_text(["Error: KeyError", "Cell [2] source"])
    sent = sent_to_model(fake_model)
    assert "KeyError: 'colour'" in sent and json.dumps(FAILING)[1:-1] in sent
    assert "\\u001b[" not in sent, "the traceback reached the model with its ANSI codes"
    shot(page, "oneclick-explain-tab")

    page.evaluate(f"() => window.jupyterapp.shell.activateById('{page_notebook_id(page)}')")
    error_output(page, 1).get_by_role("button", name=re.compile("Fix")).click()
    prompt = page.locator(f"{TAB} .jo-permission").last
    expect(prompt.locator(".jo-nbdiff-add")).to_have_text('+d["color"].upper()', timeout=60_000)
    shot(page, "oneclick-fix-diff")
    prompt.get_by_role("button", name="Allow once").click()
    assert "I corrected cell c1" in last_answer(page.locator(TAB))
    assert len(page.locator(".jo-tab").all()) == 1, "a second tab opened for the same notebook"

    page.evaluate(f"() => window.jupyterapp.shell.activateById('{page_notebook_id(page)}')")
    assert source_of(page, 1) == 'd["color"].upper()'
    run = (
        page.locator(".jp-Notebook .jp-Cell")
        .nth(1)
        .get_by_role("button", name="Run the fixed cell")
    )
    run.click()
    expect(page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea")).to_contain_text(
        "'RED'"
    )
    shot(page, "oneclick-fixed-and-run")


def page_notebook_id(page: Page) -> str:
    return page.evaluate(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.context).id"
    )


def test_context_menus_attach_the_output_and_the_cell(page: Page, lab: Lab) -> None:
    page.goto(lab.notebook_url(PLAIN))
    run_cells(page, 1)
    output = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-OutputArea-output")
    output.click(button="right")
    page.locator(".lm-Menu-item", has_text="Ask opencode About This Output").click()
    tab = page.locator(TAB)
    chips = tab.locator(".jo-context .jo-chip-name")
    output_chip = re.compile(r"Cell \[\d+\] output")  # the kernel may have run cells before
    expect(chips).to_have_text([output_chip], timeout=30_000)
    expect(tab.get_by_role("textbox", name="Message")).to_be_focused()
    shot(page, "oneclick-ask-output")
    tab.locator(".jo-chip-label").first.click()
    expect(tab.locator(".jo-chip-preview")).to_contain_text("'color': 'red'")

    page.evaluate(f"() => window.jupyterapp.shell.activateById('{page_notebook_id(page)}')")
    page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-InputArea-prompt").click(
        button="right"
    )
    page.locator(".lm-Menu-item", has_text="Ask opencode About This Cell").click()
    expect(chips).to_have_text([output_chip, "Cell 2"], timeout=30_000)
    box = tab.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    box.fill("What do these show?")
    box.press("Enter")  # the server takes what the menus attached
    expect(tab.locator(".jo-msg.jo-user .jo-msg-ctx")).to_have_count(2, timeout=30_000)
    last_answer(tab)


def test_a_plot_output_goes_to_the_model_as_an_image(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    page.goto(lab.notebook_url(PLOT))
    wait_kernel_idle(page)
    page.locator(".jp-Notebook .jp-OutputArea-output img").first.click(button="right")
    page.locator(".lm-Menu-item", has_text="Ask opencode About This Output").click()
    tab = page.locator(TAB)
    expect(tab.locator(".jo-context .jo-chip-name")).to_have_text(["Cell [1] output"])
    expect(tab.locator(".jo-attachments .jo-attachment")).to_contain_text("Cell-1-output.png")
    shot(page, "oneclick-ask-plot")
    fake_model.clear()
    box = tab.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    box.fill("What does this plot show?")
    box.press("Enter")
    last_answer(tab)
    assert "data:image/png;base64," in sent_to_model(fake_model)


def test_explain_answers_in_the_notebooks_panel_dark(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    page.goto(lab.notebook_url(PANEL))
    run_cells(page, 3)
    set_theme(page, dark=True)
    panel = page.locator(".jp-Notebook .jo-chat")
    expect(panel).to_be_visible(timeout=60_000)
    output = error_output(page, 2)
    output.hover()
    shot(page, "oneclick-error-buttons-dark")
    fake_model.clear()
    page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Alt+e")  # Explain the error in the active cell
    assert "KeyError" in last_answer(panel)
    assert page.locator(".jo-tab").count() == 0, "a tab opened although the notebook has a panel"
    sent = sent_to_model(fake_model)
    assert "KeyError: 'colour'" in sent and json.dumps(FAILING)[1:-1] in sent
    expect(panel.locator(".jo-msg.jo-user").last.locator(".jo-msg-ctx")).to_have_text(
        ["Error: KeyError", "Cell [3] source"]
    )
    panel.scroll_into_view_if_needed()
    shot(page, "oneclick-explain-panel-dark")
    set_theme(page, dark=False)


def test_notebook7_error_buttons_explain_and_fix(
    page: Page, tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess
) -> None:
    tmp = tmp_path_factory.mktemp("oneclick-nb7")
    with run_lab(tmp, fake_model.url, notebook=True) as server:
        write(server.root, PLAIN, [DATA, FAILING])
        page.goto(server.notebook_url(PLAIN))
        run_cells(page, 2)
        output = error_output(page, 1)
        expect(output.get_by_role("button", name=re.compile("Fix"))).to_be_visible()
        output.hover()
        shot(page, "oneclick-nb7-error-buttons")
        fake_model.clear()
        output.get_by_role("button", name=re.compile("Explain")).click()
        chat = page.locator(".jo-tab .jo-chat")
        expect(chat).to_be_visible(timeout=30_000)
        assert "KeyError" in last_answer(chat)
        assert "KeyError: 'colour'" in sent_to_model(fake_model)
        shot(page, "oneclick-nb7-explain")
        output.get_by_role("button", name=re.compile("Fix")).click()
        prompt = chat.locator(".jo-permission").last
        expect(prompt.locator(".jo-nbdiff-add")).to_have_text('+d["color"].upper()', timeout=60_000)
        prompt.get_by_role("button", name="Allow once").click()
        cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
        expect(cell.locator(".jp-InputArea-editor")).to_contain_text('d["color"].upper()')
        cell.get_by_role("button", name="Run the fixed cell").click()
        expect(cell.locator(".jp-OutputArea")).to_contain_text("'RED'")
        shot(page, "oneclick-nb7-fixed")
        page.goto("about:blank")  # before the server stops under the page
