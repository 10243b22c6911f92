"""Per-message actions and rewinds in a conversation tab of the sidebar (REST, no kernel)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, chromium, run_first_cell, run_lab, shot
from .test_sidebar import TAB, XSS, answered, command, new_id, open_lab, prompt, set_theme

pytestmark = pytest.mark.browser

NOTEBOOK = "changed.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model, with a notebook no browser opens."""
    with run_lab(tmp_path_factory.mktemp("sidebar-messages"), fake_model.url) as lab:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
        (lab.root / NOTEBOOK).write_text(nbformat.writes(nb))
        yield lab


@pytest.fixture
def new_page(lab: Lab) -> Iterator[Callable[[], Page]]:
    """Opens JupyterLab windows; none had a page error, a dialog or a script from a payload."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        errors: list[str] = []

        def new() -> Page:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
            page.on("dialog", lambda dialog: errors.append(f"a dialog opened: {dialog.message}"))
            return page

        yield new
        for page in context.pages:
            assert page.evaluate("window.__pwned === undefined")
        context.close()
    assert errors == []


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    """One JupyterLab window."""
    return new_page()


def open_tab(page: Page, lab: Lab, sid: str, count: int) -> Locator:
    """Open JupyterLab and the session's tab; wait until it shows `count` messages."""
    open_lab(page, lab)
    command(page, "jupyter-opencode:open", {"id": sid})
    tab = page.locator(f"{TAB}[data-session='{sid}']")
    expect(tab.locator(".jo-msg")).to_have_count(count, timeout=30_000)
    page.wait_for_timeout(300)  # subscribed to the stream
    return tab


def message(tab: Locator, mid: str) -> Locator:
    """A message of the tab, hovered so that its actions show."""
    el = tab.locator(f".jo-msg[data-id='{mid}']")
    el.hover()
    expect(el.locator(".jo-actions")).to_be_visible()
    return el


def ids(lab: Lab, sid: str) -> list[str]:
    """The ids of the session's stored messages."""
    return [m["id"] for m in lab.call("GET", f"opencode/sessions/{sid}/messages")["messages"]]


def test_rate_and_note_are_stored_and_inert(page: Page, lab: Lab) -> None:
    sid = new_id()
    messages = prompt(lab, sid, "Which plot fits a time series?")
    answer = messages[-1]["id"]
    tab = open_tab(page, lab, sid, 2)
    bar = message(tab, answer).locator(".jo-actions")
    expect(bar.get_by_role("button", name="Edit and resend")).to_have_count(0)
    with page.expect_response(lambda r: "/annotation?" in r.url) as put:
        bar.get_by_role("button", name="Good answer").click()
    assert put.value.status == 200
    expect(bar.get_by_role("button", name="Good answer")).to_have_attribute("aria-pressed", "true")
    shot(page, "tab-actions-bar-light")
    set_theme(page, dark=True)
    message(tab, answer)
    shot(page, "tab-actions-bar-dark")
    set_theme(page, dark=False)

    el = message(tab, answer)
    el.get_by_role("button", name="Note").click()
    note = f"use a line {XSS} <img src=x onerror=alert(1)>"
    el.get_by_role("textbox", name="Note").fill(note)
    with page.expect_response(lambda r: "/annotation?" in r.url) as put:
        el.get_by_role("button", name="Save note").click()
    assert put.value.status == 200
    stored = lab.call("GET", f"opencode/sessions/{sid}/messages")["messages"]
    assert stored[-1]["annotation"] == {"rating": "up", "note": note}

    # After a reload the tab reads them back; the note is text, never markup.
    tab = open_tab(page, lab, sid, 2)
    badge = tab.locator(f".jo-msg[data-id='{answer}'] .jo-annot")
    expect(badge.locator(".jo-annot-icon")).to_have_text("▲ good")
    expect(badge.locator(".jo-annot-note")).to_have_text(note)
    assert tab.locator(".jo-chat img, .jo-chat script, [onerror]").count() == 0
    shot(page, "tab-actions-note")


def test_edit_and_resend_opens_the_branch(page: Page, lab: Lab) -> None:
    sid = new_id()
    question = prompt(lab, sid, "Count the rows")[0]["id"]
    tab = open_tab(page, lab, sid, 2)
    el = message(tab, question)
    el.get_by_role("button", name="Edit and resend").click()
    box = el.get_by_role("textbox", name="Edited message")
    expect(box).to_have_value("Count the rows")
    box.fill("Count the distinct rows")
    el.get_by_role("button", name="Send as a new branch").click()
    branch = page.locator(TAB)
    expect(branch).not_to_have_attribute("data-session", sid, timeout=30_000)
    fork = branch.get_attribute("data-session")
    assert fork
    expect(branch.locator(".jo-msg.jo-user")).to_have_text(
        re.compile("Count the distinct rows"), timeout=30_000
    )
    expect(branch.locator(".jo-msg.jo-assistant").last).to_have_class(
        re.compile("jo-status-complete"), timeout=60_000
    )
    assert lab.call("GET", f"opencode/sessions/{fork}")["parent_id"] == sid
    assert len(ids(lab, sid)) == 2, "the original changed"


def test_rewind_confirms_and_reaches_every_open_tab(new_page: Callable[[], Page], lab: Lab) -> None:
    sid = new_id()
    prompt(lab, sid, "First question")
    first, _, second, _ = prompt(lab, sid, "Second question")
    first, second = first["id"], second["id"]
    other = open_tab(new_page(), lab, sid, 4)
    page = new_page()
    tab = open_tab(page, lab, sid, 4)

    el = message(tab, second)
    rewind = el.get_by_role("button", name="Rewind: take back this message and what follows")
    rewind.click()
    expect(rewind).to_have_text("Remove what follows?")
    shot(page, "tab-rewind-confirm")
    assert len(ids(lab, sid)) == 4, "rewound without a confirming click"
    rewind.click()
    expect(tab.locator(".jo-msg")).to_have_count(2, timeout=30_000)
    expect(other.locator(".jo-msg")).to_have_count(2, timeout=30_000)
    assert len(ids(lab, sid)) == 2
    expect(tab.locator(".jo-offer")).to_have_count(0)

    # A rewind over REST reaches both open tabs too.
    lab.call("DELETE", f"opencode/sessions/{sid}/messages/{first}")
    expect(tab.locator(".jo-msg")).to_have_count(0, timeout=30_000)
    expect(other.locator(".jo-msg")).to_have_count(0, timeout=30_000)

    # The session goes on from there, in both tabs.
    box = tab.get_by_role("textbox", name="Message")
    box.fill("Starting over")
    box.press("Enter")
    expect(other.locator(".jo-msg.jo-user")).to_have_text(
        re.compile("Starting over"), timeout=30_000
    )
    expect(other.locator(".jo-msg.jo-assistant")).to_have_class(
        re.compile("jo-status-complete"), timeout=60_000
    )
    expect(tab.locator(".jo-msg")).to_have_count(2)


def test_rewind_while_answering_shows_the_error(page: Page, lab: Lab) -> None:
    sid = new_id()
    question = prompt(lab, sid, "Short one")[0]["id"]
    tab = open_tab(page, lab, sid, 2)
    box = tab.get_by_role("textbox", name="Message")
    box.fill("[[slow:200:0.05]] a long answer")
    box.press("Enter")
    expect(tab.locator(".jo-msg.jo-assistant").last.locator(".jo-body")).to_contain_text(
        "s2 ", timeout=60_000
    )
    rewind = message(tab, question).get_by_role(
        "button", name="Rewind: take back this message and what follows"
    )
    rewind.click()
    rewind.click()
    error = tab.locator(".jo-error")
    expect(error).to_contain_text("Rewind failed: the session is still answering")
    expect(tab.locator(".jo-msg")).to_have_count(4)
    shot(page, "tab-rewind-busy")
    tab.get_by_role("button", name="Stop").click()
    answered(lab, sid)
    error.get_by_role("button", name="Dismiss").click()
    expect(error).to_have_count(0)


def test_rewind_offers_undo_of_notebook_changes(page: Page, lab: Lab) -> None:
    sid = new_id()
    tab = open_tab(page, lab, sid, 0)
    box = tab.get_by_role("textbox", name="Message")
    args = {"path": NOTEBOOK, "cell": 0, "source": "x = 'rewound'"}
    box.fill(f"[[notebook edit_cell {json.dumps(args)}]]")
    box.press("Enter")
    permission = tab.locator(".jo-permission").last
    expect(permission.locator(".jo-nbdiff")).to_be_visible(timeout=60_000)
    permission.get_by_role("button", name="Allow once").click()
    expect(tab.locator(".jo-msg.jo-assistant").last).to_have_class(
        re.compile("jo-status-complete"), timeout=60_000
    )

    def cells() -> list[str]:
        return [c.source for c in nbformat.read(lab.root / NOTEBOOK, as_version=4).cells]

    assert cells() == ["x = 'rewound'"]
    question = tab.locator(".jo-msg.jo-user").first.get_attribute("data-id")
    assert question
    rewind = message(tab, question).get_by_role(
        "button", name="Rewind: take back this message and what follows"
    )
    rewind.click()
    rewind.click()
    expect(tab.locator(".jo-msg")).to_have_count(0, timeout=30_000)
    offer = tab.locator(".jo-offer")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text("The answers taken back had changed notebooks.")
    assert cells() == ["x = 'rewound'"], "a rewind alone undid the change"
    shot(page, "tab-rewind-offer-light")
    set_theme(page, dark=True)
    shot(page, "tab-rewind-offer-dark")
    set_theme(page, dark=False)
    offer.get_by_role("button", name="Undo notebook changes").click()
    expect(offer.locator(".jo-nbundo-note")).to_have_text(
        "Restored 1 cell change(s).", timeout=30_000
    )
    assert cells() == ["x = 1"]
    shot(page, "tab-rewind-undone")


def test_a_rewind_in_the_notebook_panel_reaches_the_tab_and_back(page: Page, lab: Lab) -> None:
    sid = new_id()
    prompt(lab, sid, "Panel first")
    first, _, second, _ = prompt(lab, sid, "Panel second")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(f"from jupyter_opencode import Chat\nChat(session={sid!r})")
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (lab.root / "panel.ipynb").write_text(nbformat.writes(notebook))
    panel = run_first_cell(page, lab, "panel.ipynb")
    expect(panel.locator(".jo-msg")).to_have_count(4, timeout=60_000)
    command(page, "jupyter-opencode:open", {"id": sid})
    tab = page.locator(f".jo-tab[data-session='{sid}']")
    expect(tab.locator(".jo-msg")).to_have_count(4, timeout=30_000)
    page.wait_for_timeout(300)  # subscribed to the stream

    # Rewound in the panel: the tab drops the same messages.
    command(page, "application:activate-next-tab")
    question = panel.locator(f".jo-msg[data-id='{second['id']}']")
    question.hover()
    rewind = question.get_by_role("button", name="Rewind: take back this message and what follows")
    rewind.click()
    rewind.click()
    expect(panel.locator(".jo-msg")).to_have_count(2, timeout=30_000)
    expect(tab.locator(".jo-msg")).to_have_count(2, timeout=30_000)

    # Rewound in the tab: the panel drops them too.
    command(page, "jupyter-opencode:open", {"id": sid})
    rewind = message(tab, first["id"]).get_by_role(
        "button", name="Rewind: take back this message and what follows"
    )
    rewind.click()
    rewind.click()
    expect(tab.locator(".jo-msg")).to_have_count(0, timeout=30_000)
    expect(panel.locator(".jo-msg")).to_have_count(0, timeout=30_000)
    assert ids(lab, sid) == []


def test_search_and_rewind_commands(page: Page, lab: Lab) -> None:
    sid = new_id()
    prompt(lab, sid, "Kumquat harvest totals")
    messages = prompt(lab, sid, "And per orchard?")
    other = new_id()
    prompt(lab, other, "Something else")
    tab = open_tab(page, lab, other, 2)
    box = tab.get_by_role("textbox", name="Message")
    box.fill("/")
    # The same commands as the panel's (one registry), /search and /rewind among them; the
    # fourteen come first, opencode's own (which may arrive later) after them.
    options = tab.get_by_role("listbox", name="Commands").get_by_role("option")
    expect(options.nth(13)).to_contain_text("/help")
    expect(options.filter(has_text="/rewind")).to_be_visible()
    box.fill("/search kumquat")
    box.press("Enter")
    results = tab.locator(".jo-search")
    expect(results).to_be_visible(timeout=10_000)
    expect(results.locator("mark").first).to_have_text(re.compile("kumquat", re.I))
    shot(page, "tab-search-results")
    hit = results.locator(".jo-result").first
    expect(hit).to_contain_text("Kumquat")
    hit.click()
    opened = page.locator(f"{TAB}[data-session='{sid}']")
    expect(opened.locator(".jo-msg.jo-hit")).to_contain_text("Kumquat", timeout=30_000)

    box = opened.get_by_role("textbox", name="Message")
    box.fill("/rewind")
    box.press("Enter")
    expect(opened.locator(".jo-msg")).to_have_count(2, timeout=30_000)
    assert ids(lab, sid) == [m["id"] for m in messages[:2]]
