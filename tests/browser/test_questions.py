"""The agent's questions, answered in a sidebar tab (REST) and in the notebook panel (kernel)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import nbformat
import pytest
from playwright.sync_api import Page, expect

from jupyter_opencode.demo.scripts import NOTEBOOK_REPLY
from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, chromium, run_first_cell, run_lab, shot
from .test_sidebar import TAB, answered, command, new_id, open_lab
from .test_sidebar_messages import set_theme

pytestmark = pytest.mark.browser

QUESTION = {
    "question": "Which library should the plot use?",
    "header": "Library",
    "options": [
        {"label": "matplotlib", "description": "The classic"},
        {"label": "plotly", "description": "Interactive"},
    ],
}
ASK = f"Plot it [[call question {json.dumps({'questions': [QUESTION]})}]]"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model."""
    with run_lab(tmp_path_factory.mktemp("questions"), fake_model.url) as lab:
        yield lab


@pytest.fixture
def page(lab: Lab) -> Iterator[Page]:
    """One JupyterLab window that had no page error."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        context.close()
    assert errors == []


def test_a_question_answered_in_a_tab(page: Page, lab: Lab) -> None:
    sid = new_id()
    lab.call("POST", f"opencode/sessions/{sid}/messages", {"text": ASK})
    open_lab(page, lab)
    command(page, "jupyter-opencode:open", {"id": sid})
    tab = page.locator(f"{TAB}[data-session='{sid}']")
    box = tab.get_by_role("group", name="Question from the agent")
    expect(box).to_contain_text("Which library should the plot use?", timeout=60_000)
    expect(tab.locator(".jo-status")).to_have_text("Waiting for your answer")
    expect(box.get_by_role("textbox", name="Other answer")).to_be_visible()
    shot(page, "question-tab-light")
    set_theme(page, dark=True)
    shot(page, "question-tab-dark")
    set_theme(page, dark=False)

    box.get_by_role("button", name="plotly").click()
    answer = tab.locator(".jo-msg.jo-assistant").last
    expect(answer.locator(".jo-body")).to_contain_text(NOTEBOOK_REPLY, timeout=60_000)
    expect(box).to_contain_text("Answer: plotly")
    expect(box.get_by_role("button")).to_have_count(0)
    assert '"plotly"' in answered(lab, sid)[-1]["content"]
    shot(page, "question-tab-answered")

    # A reload shows the question with the answer given.
    open_lab(page, lab)
    command(page, "jupyter-opencode:open", {"id": sid})
    tab = page.locator(f"{TAB}[data-session='{sid}']")
    expect(tab.get_by_role("group", name="Question from the agent")).to_contain_text(
        "Answer: plotly", timeout=30_000
    )


def test_a_question_answered_in_the_notebook_panel(page: Page, lab: Lab) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("from jupyter_opencode import Chat\nChat()")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (lab.root / "questions.ipynb").write_text(nbformat.writes(notebook))
    panel = run_first_cell(page, lab, "questions.ipynb")
    composer = panel.get_by_role("textbox", name="Message")
    expect(composer).to_be_visible(timeout=60_000)
    composer.fill(ASK)
    composer.press("Enter")
    box = panel.get_by_role("group", name="Question from the agent")
    expect(box).to_contain_text("Which library should the plot use?", timeout=60_000)
    expect(panel.locator(".jo-status")).to_have_text("Waiting for your answer")
    other = box.get_by_role("textbox", name="Other answer")
    other.fill("seaborn, with a log scale")
    shot(page, "question-panel-light")
    other.press("Enter")
    answer = panel.locator(".jo-msg.jo-assistant").last
    expect(answer.locator(".jo-body")).to_contain_text("seaborn, with a log scale", timeout=60_000)
    expect(box).to_contain_text("Answer: seaborn, with a log scale")
    set_theme(page, dark=True)
    shot(page, "question-panel-answered-dark")
    set_theme(page, dark=False)
