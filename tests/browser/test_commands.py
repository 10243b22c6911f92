"""Every slash command in the notebook panel and in a sidebar tab: one registry, one result.

Each row is typed into the panel (its kernel runs what needs it) and into a new chat tab (REST,
no kernel); what the user then sees (the notice, the search results, a fresh conversation) must
be the same, and what the row expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_first_cell, run_lab, shot
from .test_library_panel import NOTEBOOK
from .test_sidebar import TAB, command, open_lab

pytestmark = pytest.mark.browser

CONTEXT_IN_A_TAB = (
    "/context: Attach the last N cells up to the active one of the current notebook: /context N"
)
NOT_SAVED = "this conversation is not saved yet: send a message first"
# (typed, what the user sees after it); None: the same in both hosts, compared between them.
ROWS: list[tuple[str, str | None]] = [
    ("/help", None),
    ("/bogus", "error: Unknown command /bogus. Type /help for the list."),
    ("/model", None),
    ("/model nope/none", "error: Unknown model nope/none. Type /model to list them."),
    ("/model fake/echo-1", "info: Model: fake/echo-1"),
    ("/context x", 'error: /context expects a number of cells, not "x".'),
    ("/context 99", "error: /context expects a number of cells between 1 and 50."),
    ("/fork", "error: Nothing to fork yet: send a message first."),
    ("/search", "error: /search needs something to look for: /search WORDS"),
    ("/search zanzibar", "results: No results for “zanzibar”"),
    ("/rename", "error: /rename needs an argument: /rename TITLE"),
    ("/rename Budget", f"error: /rename failed: {NOT_SAVED}"),
    ("/star", f"error: /star failed: {NOT_SAVED}"),
    ("/tag", "error: /tag needs an argument: /tag NAME"),
    ("/tag finance", f"error: /tag failed: {NOT_SAVED}"),
    ("/rewind", "info: Nothing to take back."),
    ("/compact", "error: Nothing to compact yet: send a message first."),
    ("/template", "info: No templates yet."),
    ("/template terse", "error: /template failed: no template named 'terse'; /template lists them"),
    ("/export rtf", 'error: Export formats: md, txt, json, html, pdf, docx, ipynb (not "rtf").'),
    ("/export", "error: Export failed: Nothing to export yet: send a message first."),
    ("/new", "fresh conversation"),
    ("/clear", "fresh conversation"),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab with a one-cell notebook that shows a chat panel."""
    with run_lab(tmp_path_factory.mktemp("commands"), fake_model.url) as lab:
        (lab.root / "commands.ipynb").write_text(json.dumps(NOTEBOOK))
        yield lab


@pytest.fixture(scope="module")
def hosts(browser: Browser, lab: Lab) -> Iterator[dict[str, Page]]:
    """A window with the notebook's panel, and one with a new chat tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    panel_page, tab_page = context.new_page(), context.new_page()
    for page in (panel_page, tab_page):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    panel = run_first_cell(panel_page, lab, "commands.ipynb")
    expect(panel).to_be_visible(timeout=60_000)
    expect(panel.locator(".jo-banner")).to_be_hidden(timeout=30_000)
    open_lab(tab_page, lab)
    command(tab_page, "jupyter-opencode:new-chat")
    yield {"panel": panel_page, "tab": tab_page}
    context.close()
    assert errors == []


def chat(host: str, page: Page) -> Locator:
    """The chat view the user types into."""
    return page.locator(".jp-Notebook .jo-chat" if host == "panel" else f"{TAB} .jo-chat")


def run(host: str, page: Page, typed: str) -> str:
    """Type a command; return what the user sees of it, as one line of text."""
    view = chat(host, page)
    expect(view.locator(".jo-models")).to_be_enabled(timeout=30_000)  # the models have come
    holder = view if host == "panel" else page.locator(TAB)
    session = holder.get_attribute("data-session") or ""
    view.evaluate(
        "el => { for (const s of ['.jo-errors', '.jo-info']) el.querySelector(s).replaceChildren();"
        " el.querySelector('.jo-search').hidden = true; }"
    )
    box = view.get_by_role("textbox", name="Message")
    box.fill(typed)  # typed in full: no completion menu is open, Enter sends it
    box.press("Enter")
    shown = page.locator(
        f"{'.jp-Notebook .jo-chat' if host == 'panel' else TAB}"
        " :is(.jo-error-text, .jo-info-item, .jo-search:not([hidden]) .jo-search-head span)"
    )
    if typed in ("/new", "/clear"):
        fresh = chat(host, page)
        if host == "tab":
            fresh = page.locator(f"{TAB}:not([data-session='{session}']) .jo-chat")
        else:
            expect(fresh).not_to_have_attribute("data-session", session, timeout=30_000)
        expect(fresh.locator(".jo-empty")).to_be_visible(timeout=30_000)
        return "fresh conversation"
    expect(shown.first).to_be_visible(timeout=30_000)
    item = shown.first
    classes = item.get_attribute("class") or ""
    kind = "error" if "jo-error" in classes else "info" if "jo-info" in classes else "results"
    return f"{kind}: {(item.text_content() or '').strip()}"


@pytest.mark.parametrize(("typed", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_every_command_does_the_same_in_the_panel_and_a_tab(
    hosts: dict[str, Page], typed: str, expected: str | None
) -> None:
    seen = {host: run(host, page, typed) for host, page in hosts.items()}
    if typed == "/help":
        # The tab has no kernel: its /context is the nearest equivalent, and says so.
        assert CONTEXT_IN_A_TAB in seen["tab"]
        assert seen["tab"].replace(CONTEXT_IN_A_TAB, "") == seen["panel"].replace(
            "/context: Attach the last N executed cells: /context N (default 1)", ""
        )
        assert seen["panel"].startswith("info: Commands:\n/new:")
    elif typed == "/model":
        assert seen["panel"] == seen["tab"] and "* fake/echo-1" in seen["panel"]
    else:
        assert seen == {"panel": expected, "tab": expected}
    if typed == "/help":
        for host, page in hosts.items():
            shot(page, f"commands-help-{host}")
