"""The agent's plan and the files its edit tools changed, in the panel and the tab."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_first_cell, run_lab, shot, watched_page
from .test_sidebar import TAB, answered, new_id, open_lab, set_theme

pytestmark = pytest.mark.browser

NOTEBOOK = "files.ipynb"
CHAT = "from jupyter_opencode import Chat\nchat = Chat()\nchat"


def calls(*steps: tuple[str, dict[str, Any]]) -> str:
    """A prompt making the fake model call opencode's own tools in order."""
    return " ".join(f"[[call {tool} {json.dumps(args)}]]" for tool, args in steps)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model (edits ask first), with a notebook showing a Chat."""
    with run_lab(tmp_path_factory.mktemp("file-changes"), fake_model.url) as lab:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(CHAT)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        (lab.root / NOTEBOOK).write_text(nbformat.writes(nb))
        yield lab


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page; no page errors."""
    with watched_page(browser, viewport={"width": 1300, "height": 950}) as page:
        yield page


def todowrite(*items: tuple[str, str]) -> str:
    """A fake-model directive writing the agent's whole todo list."""
    todos = [
        {"id": str(i), "content": c, "status": s, "priority": "medium"}
        for i, (c, s) in enumerate(items)
    ]
    return f"[[call todowrite {json.dumps({'todos': todos})}]]"


def open_session(page: Page, sid: str) -> Locator:
    """Open a session's tab (the command's result, a widget, stays in the page)."""
    page.evaluate(
        "(id) => { window.jupyterapp.commands.execute('jupyter-opencode:open', {id}); }", sid
    )
    return page.locator(f"{TAB}[data-session='{sid}']")


def answer_done(chat: Locator) -> Locator:
    """The last answer, once it has ended well."""
    return chat.locator(".jo-msg.jo-assistant.jo-status-complete").last


def ask_and_allow(chat: Locator, text: str, prompts: int) -> Locator:
    """Send `text`, allow each edit once; the finished answer."""
    box = chat.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    for _ in range(prompts):
        button = chat.locator(".jo-permission").last.get_by_role("button", name="Allow once")
        expect(button).to_be_visible(timeout=60_000)
        button.click()
        expect(button).to_have_count(0, timeout=10_000)
    answer = chat.locator(".jo-msg.jo-assistant").last
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    return answer


def test_panel_lists_changed_files_shows_a_diff_and_undoes(page: Page, lab: Lab) -> None:
    (lab.root / "report.txt").write_text("total: 1\nok\n")
    chat = run_first_cell(page, lab, NOTEBOOK)
    expect(chat).to_be_visible(timeout=60_000)
    text = calls(
        ("edit", {"filePath": str(lab.root / "report.txt"), "oldString": "1", "newString": "2"}),
        ("write", {"filePath": str(lab.root / "made.py"), "content": "print('made')\n"}),
    )
    answer = ask_and_allow(chat, text, 2)
    files = answer.locator(".jo-files")
    expect(files.locator(".jo-files-head")).to_have_text("Files changed")
    rows = files.locator(".jo-file > summary")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("report.txt")
    expect(rows.nth(0)).to_contain_text("modified")
    expect(rows.nth(0).locator(".jo-file-add")).to_have_text("+1")
    expect(rows.nth(1)).to_contain_text("made.py")
    expect(rows.nth(1)).to_contain_text("added")
    rows.nth(0).click()
    diff = files.locator(".jo-file").nth(0).locator(".jo-file-diff")
    expect(diff.locator(".jo-nbdiff-del")).to_have_text("-total: 1")
    expect(diff.locator(".jo-nbdiff-add")).to_have_text("+total: 2")
    # The tools' paths and the permission's show from the Jupyter root, as the files do.
    expect(chat.locator(".jo-tool-title")).to_have_text(["report.txt", "made.py"])
    expect(chat.locator(".jo-permission-pattern")).to_have_text(["made.py"])
    files.scroll_into_view_if_needed()
    shot(page, "file-changes-panel-light")
    assert (lab.root / "made.py").exists()

    files.get_by_role("button", name="Undo file changes").click()
    expect(files.locator(".jo-nbundo-note")).to_have_text("Restored 2 file(s).", timeout=20_000)
    assert not (lab.root / "made.py").exists()
    assert (lab.root / "report.txt").read_text() == "total: 1\nok\n"


def test_tab_keeps_the_list_after_reload_and_offers_undo_on_rewind(page: Page, lab: Lab) -> None:
    target = lab.root / "notes.md"
    target.write_text("# Notes\nfirst\n")
    sid = new_id()
    open_lab(page, lab)
    tab = open_session(page, sid)
    text = calls(("write", {"filePath": str(target), "content": "# Notes\nsecond\nthird\n"}))
    ask_and_allow(tab, text, 1)
    assert target.read_text() == "# Notes\nsecond\nthird\n"

    open_lab(page, lab)  # a reload: the list comes back with the stored answer
    tab = open_session(page, sid)
    files = tab.locator(".jo-msg.jo-assistant .jo-files")
    expect(files.locator(".jo-file > summary")).to_contain_text("notes.md", timeout=30_000)
    expect(files.locator(".jo-file-del")).to_have_text("\u22121")
    files.locator(".jo-file > summary").click()
    set_theme(page, dark=True)
    files.scroll_into_view_if_needed()
    shot(page, "file-changes-tab-dark")

    user = tab.locator(".jo-msg.jo-user").first
    user.hover()
    rewind = user.get_by_role("button", name="Rewind: take back this message and what follows")
    rewind.click()
    expect(rewind).to_have_text("Remove what follows?")
    rewind.click()
    expect(tab.locator(".jo-msg")).to_have_count(0, timeout=20_000)
    notice = tab.get_by_text("The answers taken back had changed files.")
    expect(notice).to_be_visible()
    shot(page, "file-changes-rewound-dark")
    tab.get_by_role("button", name="Undo file changes").click()
    expect(tab.get_by_text("Restored 1 file(s).")).to_be_visible(timeout=20_000)
    assert target.read_text() == "# Notes\nfirst\n"
    set_theme(page, dark=False)


def test_panel_plan_updates_live(page: Page, lab: Lab) -> None:
    chat = run_first_cell(page, lab, NOTEBOOK)
    expect(chat).to_be_visible(timeout=60_000)
    box = chat.get_by_role("textbox", name="Message")
    write = {"filePath": str(lab.root / "plan.txt"), "content": "step\n"}
    box.fill(
        todowrite(("Read the data", "in_progress"), ("Write plan.txt", "pending"))
        + f" [[call write {json.dumps(write)}]] "
        + todowrite(("Read the data", "completed"), ("Write plan.txt", "completed"))
    )
    box.press("Enter")
    answer = chat.locator(".jo-msg.jo-assistant").last
    plan = answer.locator(".jo-plan")
    allow = chat.locator(".jo-permission").last.get_by_role("button", name="Allow once")
    expect(allow).to_be_visible(timeout=60_000)  # the answer waits: the first plan shows
    expect(plan.locator(".jo-plan-head")).to_have_text("Plan (0/2 done)")
    items = plan.locator(".jo-plan-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_have_attribute("data-status", "in_progress")
    expect(items.nth(1)).to_contain_text("Write plan.txt")
    plan.scroll_into_view_if_needed()
    shot(page, "plan-panel-live-light")
    allow.click()
    expect(plan.locator(".jo-plan-head")).to_have_text("Plan (2/2 done)", timeout=60_000)
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    expect(plan.locator(".jo-plan-item[data-status='completed']")).to_have_count(2)


def test_tab_shows_the_plan_after_a_reload(page: Page, lab: Lab) -> None:
    sid = new_id()
    text = todowrite(("Clean", "completed"), ("Model", "in_progress"), ("Report", "cancelled"))
    lab.call("POST", f"opencode/sessions/{sid}/messages", {"text": text})
    answered(lab, sid)
    open_lab(page, lab)
    set_theme(page, dark=True)
    plan = open_session(page, sid).locator(".jo-plan")
    expect(plan.locator(".jo-plan-head")).to_have_text("Plan (1/3 done)", timeout=30_000)
    statuses = [plan.locator(".jo-plan-item").nth(i).get_attribute("data-status") for i in range(3)]
    assert statuses == ["completed", "in_progress", "cancelled"]
    shot(page, "plan-tab-dark")
    set_theme(page, dark=False)


def test_panel_gauge_and_compact_command(page: Page, lab: Lab) -> None:
    chat = run_first_cell(page, lab, NOTEBOOK)
    expect(chat).to_be_visible(timeout=60_000)
    box = chat.get_by_role("textbox", name="Message")
    box.fill("How full is the context?")
    box.press("Enter")
    gauge = chat.locator(".jo-header .jo-gauge")
    expect(gauge).to_contain_text(re.compile(r"^\d+% of context$"), timeout=60_000)
    assert re.fullmatch(
        r"[\d,]+ of 32,000 tokens · cost \$0\.0000", gauge.get_attribute("title") or ""
    )
    expect(answer_done(chat)).to_be_visible(timeout=60_000)
    box.fill("/compact")
    box.press("Enter")
    divider = chat.locator(".jo-msg.jo-compaction")
    expect(divider).to_contain_text("Conversation compacted", timeout=60_000)
    expect(divider.locator("summary")).to_have_text("Summary")
    divider.scroll_into_view_if_needed()
    shot(page, "compaction-panel-light")


def test_tab_compact_button(page: Page, lab: Lab) -> None:
    sid = new_id()
    lab.call("POST", f"opencode/sessions/{sid}/messages", {"text": "Something to compact"})
    answered(lab, sid)
    open_lab(page, lab)
    set_theme(page, dark=True)
    tab = open_session(page, sid)
    gauge = tab.locator(".jo-header .jo-gauge")
    expect(gauge).to_contain_text("% of context", timeout=30_000)
    before = gauge.get_attribute("title") or ""
    tab.locator(".jo-header").get_by_role("button", name="Compact").click()
    expect(tab.locator(".jo-msg.jo-compaction")).to_contain_text(
        "Conversation compacted", timeout=60_000
    )
    expect(gauge).not_to_have_attribute("title", before)
    shot(page, "compaction-tab-dark")
    set_theme(page, dark=False)
