"""Per-session actions of the Chat sessions sidebar: rename, delete, fork, duplicate, star,
archive, tags, export, compare, and the palette and shortcut."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_lab, shot, watched_page
from .test_sidebar import answered, command, new_id, open_lab, prompt, set_theme, sidebar

pytestmark = pytest.mark.browser


def accepts(lab: Lab, sid: str, fields: dict[str, Any]) -> bool:
    """Whether `PATCH sessions/{sid}` takes these fields (a server that only renames: 400)."""
    try:
        lab.call("PATCH", f"opencode/sessions/{sid}", fields)
    except urllib.error.HTTPError as e:
        if e.code in (400, 404):
            return False
        raise
    return True


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model."""
    with run_lab(tmp_path_factory.mktemp("sidebar-actions"), fake_model.url) as lab:
        yield lab


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page with no page errors."""
    with watched_page(browser, accept_downloads=True) as page:
        yield page


def row(panel: Locator, sid: str) -> Locator:
    """The sidebar row of a session."""
    return panel.locator(f".jo-side-item[data-session='{sid}']")


def action(page: Page, panel: Locator, sid: str, name: str) -> None:
    """Open a row's actions menu and pick one."""
    row(panel, sid).locator(".jo-more").click()
    row(panel, sid).get_by_role("menuitem", name=name).click()


def test_rename_duplicate_fork_delete(page: Page, lab: Lab) -> None:
    sid = new_id()
    prompt(lab, sid, "First question about dataframes")
    open_lab(page, lab)
    panel = sidebar(page)
    expect(row(panel, sid)).to_be_visible(timeout=30_000)

    action(page, panel, sid, "Rename…")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("Renamed session")
    dialog.get_by_role("button", name="Ok").click()
    expect(row(panel, sid).locator(".jo-side-name")).to_have_text("Renamed session")
    assert lab.call("GET", f"opencode/sessions/{sid}")["title"] == "Renamed session"

    action(page, panel, sid, "Duplicate")
    copy = panel.locator(".jo-side-item", has_text="Renamed session (copy)")
    expect(copy).to_have_count(1, timeout=10_000)

    action(page, panel, sid, "Fork")
    tab = page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab")
    expect(tab).to_be_visible(timeout=10_000)
    fork = tab.get_attribute("data-session")
    assert fork and fork != sid
    assert lab.call("GET", f"opencode/sessions/{fork}")["parent_id"] == sid
    expect(tab.locator(".jo-msg.jo-user")).to_contain_text("First question about dataframes")
    shot(page, "actions-1-forked")

    action(page, panel, sid, "Delete…")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("cannot be undone")
    shot(page, "actions-2-delete-asks")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row(panel, sid)).to_be_visible()
    action(page, panel, sid, "Delete…")
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(row(panel, sid)).to_have_count(0, timeout=10_000)
    with pytest.raises(urllib.error.HTTPError) as e:
        lab.call("GET", f"opencode/sessions/{sid}")
    assert e.value.code == 404


def test_compare_two_branches(page: Page, lab: Lab) -> None:
    base = new_id()
    prompt(lab, base, "Shared first question")
    fork = lab.call("POST", f"opencode/sessions/{base}/fork", {})["session"]["id"]
    prompt(lab, base, "Then the original asks this")
    prompt(lab, fork, "But the branch asks that")
    open_lab(page, lab)
    panel = sidebar(page)
    expect(row(panel, base)).to_be_visible(timeout=30_000)
    row(panel, base).locator(".jo-side-pick").check()
    row(panel, fork).locator(".jo-side-pick").check()
    panel.get_by_role("button", name="Compare").click()
    view = page.locator(".jo-compare")
    expect(view.locator(".jo-compare-status")).to_contain_text("diverge at turn 2", timeout=30_000)
    rows = view.locator(".jo-compare-row:not(.jo-compare-head)")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).not_to_have_class(re.compile("jo-diverge"))
    expect(rows.nth(1)).to_have_class(re.compile("jo-diverge"))
    expect(rows.nth(1).locator(".jo-compare-cell").nth(0)).to_contain_text("the original asks")
    expect(rows.nth(1).locator(".jo-compare-cell").nth(1)).to_contain_text("the branch asks")
    expect(view.locator(".jo-diverge-mark")).to_have_text("Diverges here (turn 2)")
    shot(page, "actions-3-compare-light")
    set_theme(page, dark=True)
    shot(page, "actions-3-compare-dark")
    set_theme(page, dark=False)


def test_star_archive_tags(page: Page, lab: Lab) -> None:
    sid = new_id()
    prompt(lab, sid, "Organize me")
    if not accepts(lab, sid, {"starred": False}):
        pytest.skip("PATCH sessions/{sid} takes only a title on this server")
    open_lab(page, lab)
    panel = sidebar(page)
    expect(row(panel, sid)).to_be_visible(timeout=30_000)
    row(panel, sid).get_by_role("button", name="Star Organize me").click()
    expect(row(panel, sid).get_by_role("button", name="Unstar Organize me")).to_be_visible()
    assert lab.call("GET", f"opencode/sessions/{sid}")["starred"] in (True, 1)
    panel.get_by_label("Starred").check()
    expect(panel.locator(".jo-side-item")).to_have_count(1, timeout=10_000)
    panel.get_by_label("Starred").uncheck()

    # The open menu floats above the rows below it and inside the window.
    row(panel, sid).locator(".jo-more").click()
    menu = row(panel, sid).get_by_role("menu")
    box = menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1400
    shot(page, "actions-4-menu")
    row(panel, sid).locator(".jo-more").click()
    expect(menu).to_be_hidden()
    action(page, panel, sid, "Tags…")
    page.locator(".jp-Dialog input").fill("cleaning, sales")
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    expect(row(panel, sid).locator(".jo-tag")).to_have_text(["cleaning", "sales"])
    panel.get_by_role("textbox", name="Tag").fill("sales")
    panel.get_by_role("textbox", name="Tag").press("Enter")
    expect(panel.locator(".jo-side-item")).to_have_count(1, timeout=10_000)
    panel.get_by_role("textbox", name="Tag").fill("")
    panel.get_by_role("textbox", name="Tag").press("Enter")

    action(page, panel, sid, "Archive")
    expect(row(panel, sid)).to_have_count(0, timeout=10_000)
    panel.get_by_label("Archived").check()
    expect(row(panel, sid)).to_be_visible(timeout=10_000)
    shot(page, "actions-4-organized")


def test_export_downloads_a_file(page: Page, lab: Lab, tmp_path: Path) -> None:
    sid = new_id()
    prompt(lab, sid, "Export me please")
    try:
        lab.call("GET", f"opencode/sessions/{sid}/export?format=json")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            pytest.skip("GET sessions/{sid}/export answers 404 on this server")
        raise
    open_lab(page, lab)
    panel = sidebar(page)
    expect(row(panel, sid)).to_be_visible(timeout=30_000)
    action(page, panel, sid, "Export…")
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_label("Format").select_option("md")
    shot(page, "actions-5-export-dialog")
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Export").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".md"
    assert "Export me please" in path.read_text()


def test_palette_commands_and_shortcut(page: Page, lab: Lab) -> None:
    open_lab(page, lab)
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette")
    for label in ("New Chat", "Open Chat Sessions", "Search Chat Sessions", "Export Chat Session…"):
        palette.locator("input").fill(label)
        expect(palette.locator(".lm-CommandPalette-item", has_text=label).first).to_be_visible()
    shot(page, "actions-6-palette")
    page.keyboard.press("Escape")
    page.locator(".jp-LabShell").click(position={"x": 700, "y": 400})
    # Shortcuts from settings are bound once JupyterLab has read every plugin's settings.
    page.wait_for_function(
        "() => window.jupyterapp.commands.keyBindings.some("
        "b => b.command === 'jupyter-opencode:focus-composer')",
        timeout=30_000,
    )
    page.keyboard.press("Control+Alt+C")
    expect(page.get_by_role("textbox", name="Ask in a new chat")).to_be_focused(timeout=5_000)
    box = page.get_by_role("textbox", name="Ask in a new chat")
    box.fill("Started from the sidebar")
    box.press("Enter")
    tab = page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab")
    expect(tab.locator(".jo-msg.jo-user")).to_contain_text(
        "Started from the sidebar", timeout=30_000
    )
    expect(tab.locator(".jo-msg.jo-assistant").last).to_have_class(
        re.compile("jo-status-complete"), timeout=60_000
    )
    command(page, "settingeditor:open", {"query": "Chat sessions"})
    expect(page.locator(".jp-SettingsPanel, .jp-SettingsEditor").first).to_contain_text(
        "Chat sessions", timeout=20_000
    )
    shot(page, "actions-7-settings")


def test_new_from_template(page: Page, lab: Lab) -> None:
    try:
        lab.call("POST", "opencode/templates", {"name": "tidy", "instructions": "Be brief."})
    except urllib.error.HTTPError as e:
        if e.code == 404:
            pytest.skip("POST opencode/templates answers 404 on this server")
        raise
    open_lab(page, lab)
    sidebar(page).get_by_role("button", name="New from template").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("select").select_option("tidy")
    dialog.get_by_role("button", name="Ok").click()
    tab = page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab")
    box = tab.get_by_role("textbox", name="Message")
    box.fill("First message from a template")
    with page.expect_request(lambda r: r.method == "POST" and "/messages" in r.url) as sent:
        box.press("Enter")
    assert (sent.value.post_data_json or {})["template"] == "tidy"
    expect(tab.locator(".jo-msg.jo-assistant").last).to_have_class(
        re.compile("jo-status-complete"), timeout=60_000
    )


def test_infinite_scroll_pages_with_the_cursor(page: Page, lab: Lab) -> None:
    made = [new_id() for _ in range(12)]
    for sid in made:
        lab.call("POST", f"opencode/sessions/{sid}/messages", {"text": f"Paging {sid[:6]}"})
    for sid in made:
        answered(lab, sid)
    total = len(lab.call("GET", "opencode/sessions?limit=200")["sessions"])
    settings = json.dumps({"raw": json.dumps({"pageSize": 10})}).encode()
    request = urllib.request.Request(
        f"{lab.url}lab/api/settings/jupyter-opencode:sessions",
        data=settings,
        method="PUT",
        headers={"Authorization": f"token {lab.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/opencode/sessions?" in r.url else None)
    open_lab(page, lab)
    panel = sidebar(page)
    rows = panel.locator(".jo-side-item")
    expect(rows).to_have_count(total, timeout=30_000)
    assert any("cursor=" in url for url in pages), pages
    assert all("limit=10" in url for url in pages if "cursor=" in url)
    rows.last.scroll_into_view_if_needed()
    ids = [rows.nth(i).get_attribute("data-session") for i in range(total)]
    assert len(set(ids)) == total
