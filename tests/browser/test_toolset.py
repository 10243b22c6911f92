"""The agent's questions, queued prompts, agents and commands, in a sidebar tab (REST) and the
notebook panel (kernel)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.demo.scripts import NOTEBOOK_REPLY
from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_first_cell, run_lab, shot, watched_page
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
    with run_lab(tmp_path_factory.mktemp("toolset"), fake_model.url) as lab:
        # The root's own agent and command (read when the worker starts, at the first prompt).
        (lab.root / ".opencode" / "agent").mkdir(parents=True)
        (lab.root / ".opencode" / "command").mkdir()
        (lab.root / ".opencode" / "agent" / "reviewer.md").write_text(REVIEWER)
        (lab.root / ".opencode" / "agent" / "helper.md").write_text(HELPER)
        (lab.root / ".opencode" / "command" / "greet.md").write_text(GREET)
        yield lab


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """One JupyterLab window that had no page error."""
    with watched_page(browser) as page:
        yield page


REVIEWER = "---\ndescription: Reviews code\nmode: primary\n---\nYou are the reviewer agent.\n"
HELPER = "---\ndescription: Finds things\nmode: subagent\n---\nYou find things.\n"
GREET = "---\ndescription: Greets someone by name\n---\nSay hello to $ARGUMENTS politely.\n"


def pick_agent_and_greet(page: Page, chat: Locator, fake_model: FakeModelProcess, who: str) -> None:
    """Pick the root's agent, run the root's command through the slash menu; both reach opencode."""
    picker = chat.get_by_role("combobox", name="Agent")
    expect(picker.locator("option")).to_have_text(
        ["Agent: default", "build", "plan", "reviewer"], timeout=60_000
    )
    picker.select_option("reviewer")
    expect(picker.locator("option")).to_have_text(["build", "plan", "reviewer"])
    box = chat.get_by_role("textbox", name="Message")
    box.fill("/gr")
    menu = chat.get_by_role("listbox", name="Commands")
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option").first).to_contain_text("/greetGreets someone by name")
    shot(page, f"toolset-command-menu-{who}")
    box.press("Enter")  # completes the name
    box.press_sequentially(who)
    box.press("Enter")
    expect(chat.locator(".jo-msg.jo-user").last).to_have_text(f"/greet {who}", timeout=30_000)
    answer = chat.locator(".jo-msg.jo-assistant .jo-body").last
    expect(answer).to_contain_text(f"Say hello to {who} politely.", timeout=60_000)
    sent = [r for r in fake_model.requests() if f"Say hello to {who}" in json.dumps(r)]
    system = [m for m in sent[0]["messages"] if m["role"] == "system"]
    assert "You are the reviewer agent." in json.dumps(system)


def test_agent_and_command_in_a_tab(page: Page, lab: Lab, fake_model: FakeModelProcess) -> None:
    open_lab(page, lab)
    command(page, "jupyter-opencode:open-sessions")
    page.locator("#jupyter-opencode-sessions").get_by_role("button", name="New chat").click()
    pick_agent_and_greet(page, page.locator(TAB), fake_model, "Ada")
    set_theme(page, dark=True)
    shot(page, "toolset-agent-tab-dark")
    set_theme(page, dark=False)
    # Opened again, the conversation shows the agent it goes on answering with.
    sid = page.locator(TAB).get_attribute("data-session")
    assert sid and lab.call("GET", f"opencode/sessions/{sid}")["agent"] == "reviewer"
    open_lab(page, lab)
    command(page, "jupyter-opencode:open", {"id": sid})
    picker = page.locator(TAB).get_by_role("combobox", name="Agent")
    expect(picker).to_have_value("reviewer", timeout=60_000)
    expect(picker.locator("option")).to_have_text(["build", "plan", "reviewer"])


def test_agent_and_command_in_the_notebook_panel(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    panel = open_panel(page, lab, "agents.ipynb")
    pick_agent_and_greet(page, panel, fake_model, "Bob")
    shot(page, "toolset-agent-panel-light")
    # A new panel on the same conversation shows the agent it goes on answering with.
    sid = panel.get_attribute("data-session")
    assert sid and lab.call("GET", f"opencode/sessions/{sid}")["agent"] == "reviewer"
    open_lab(page, lab)
    reopened = open_panel(page, lab, "agents-again.ipynb", f"Chat({sid!r})")
    expect(reopened.get_by_role("combobox", name="Agent")).to_have_value("reviewer", timeout=60_000)


SLOW = "Take your time [[slow:30:0.15]]"


def queue_two_and_remove_one(page: Page, chat: Locator) -> None:
    """While an answer streams, queue two prompts and remove the second."""
    box = chat.get_by_role("textbox", name="Message")
    box.fill(SLOW)
    box.press("Enter")
    answer = chat.locator(".jo-msg.jo-assistant .jo-body")
    expect(answer.last).to_contain_text("s2 ", timeout=60_000)
    box.fill("Queued first")
    box.press("Enter")
    box.fill("Queued second")
    box.press("Enter")
    queue = chat.get_by_role("list", name="Queued prompts")
    expect(queue.get_by_role("listitem")).to_have_count(2)
    expect(queue.get_by_role("listitem").first).to_contain_text("QueuedQueued first")
    shot(page, "queue-two")
    queue.get_by_role("listitem").nth(1).get_by_role("button", name="Remove queued prompt").click()
    expect(queue.get_by_role("listitem")).to_have_count(1)
    # Sent when the answer ends; the removed one never is.
    expect(chat.locator(".jo-msg.jo-user")).to_have_count(2, timeout=60_000)
    expect(chat.locator(".jo-msg.jo-user").last).to_contain_text("Queued first")
    expect(queue).to_be_hidden()
    expect(answer.last).to_contain_text("You asked: Queued first", timeout=60_000)


def test_prompts_queue_while_a_tab_answers(page: Page, lab: Lab) -> None:
    open_lab(page, lab)
    command(page, "jupyter-opencode:open-sessions")
    page.locator("#jupyter-opencode-sessions").get_by_role("button", name="New chat").click()
    tab = page.locator(TAB)
    queue_two_and_remove_one(page, tab)
    sid = tab.get_attribute("data-session")
    texts = [m["content"] for m in answered(lab, str(sid)) if m["role"] == "user"]
    assert texts == [SLOW, "Queued first"]


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


def open_panel(page: Page, lab: Lab, name: str, chat: str = "Chat()") -> Locator:
    """A notebook showing a chat panel (`chat`: the expression that makes it)."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"from jupyter_opencode import Chat\n{chat}")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (lab.root / name).write_text(nbformat.writes(notebook))
    return run_first_cell(page, lab, name)


def test_prompts_queue_while_the_notebook_panel_answers(page: Page, lab: Lab) -> None:
    panel = open_panel(page, lab, "queue.ipynb")
    expect(panel.get_by_role("textbox", name="Message")).to_be_visible(timeout=60_000)
    queue_two_and_remove_one(page, panel)


def test_a_question_answered_in_the_notebook_panel(page: Page, lab: Lab) -> None:
    panel = open_panel(page, lab, "questions.ipynb")
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
