"""The composer's @ menu and attachments in JupyterLab: a tab and the notebook panel."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator

import nbformat
import PIL.Image
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, run_first_cell, run_lab, shot, watched_page
from .test_sidebar import TAB, answered, open_lab, sidebar
from .test_sidebar_messages import set_theme

pytestmark = pytest.mark.browser

NOTEBOOK = "mentions.ipynb"
PLOTS = "plots.ipynb"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SETUP = (
    "import pandas as pd\nfrom jupyter_opencode import Chat\n"
    "sales_by_region = pd.DataFrame({'region': ['north', 'south'], 'total': [7, 9]})\n"
    "chat = Chat()\nchat"
)


def plot_png() -> str:
    """A small plot-like PNG, base64."""
    out = io.BytesIO()
    image = PIL.Image.new("RGB", (120, 80), (255, 255, 255))
    for x in range(120):
        image.putpixel((x, 79 - (x * 2) % 80), (31, 119, 180))
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model; a root with files to mention and a notebook with a frame."""
    with run_lab(tmp_path_factory.mktemp("mentions"), fake_model.url) as lab:
        (lab.root / "sales.csv").write_text("region,total\nnorth,OKAPI-77\n")
        (lab.root / "ventes été 2024.csv").write_text("région,total\nsud,NARVAL-5\n")
        (lab.root / "data").mkdir()
        (lab.root / "data" / "january.parquet").write_bytes(b"PAR1")
        kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
        nb.cells = [nbformat.v4.new_code_cell(SETUP, id="c0")]
        (lab.root / NOTEBOOK).write_text(nbformat.writes(nb))
        plotted = nbformat.v4.new_code_cell("plt.plot(x)", id="p0", execution_count=3)
        plotted.outputs = [
            nbformat.v4.new_output("display_data", {"image/png": plot_png(), "text/plain": "plot"})
        ]
        plots = nbformat.v4.new_notebook(metadata={"kernelspec": kernel}, cells=[plotted])
        (lab.root / PLOTS).write_text(nbformat.writes(plots))
        yield lab


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page; no page errors."""
    with watched_page(browser) as page:
        yield page


def asked(fake_model: FakeModelProcess, marker: str) -> str:
    """What reached the model in the request carrying `marker`."""
    found = [r for r in fake_model.requests() if marker in json.dumps(r)]
    assert found, f"no request mentioned {marker!r}"
    return json.dumps(found[-1]["messages"])


def pick(box: Locator, menu: Locator, typed: str, label: str) -> None:
    """Type `typed` after an @ and pick `label` with the arrow keys and Enter."""
    if typed:
        box.press_sequentially(typed, delay=30)
    items = menu.locator("[role='option']")
    expect(items.first).to_be_visible(timeout=15_000)
    expect(menu).to_contain_text(label)
    highlighted = menu.locator("[role='option'][aria-selected='true'] .jo-slash-name")
    for _ in range(items.count()):
        if highlighted.inner_text() == label:
            break
        box.press("ArrowDown")
    expect(highlighted).to_have_text(label)
    box.press("Enter")


def paste_image(box: Locator, name: str) -> None:
    """Paste a PNG into the message box, as a screenshot tool's copy would."""
    box.evaluate(
        """(el, [b64, name]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: "image/png" }));
            el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
        }""",
        [base64.b64encode(PNG).decode(), name],
    )


def test_tab_mentions_files_pastes_an_image_and_shows_them_after_a_reload(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    open_lab(page, lab)
    sidebar(page).get_by_role("button", name="New chat").click()
    tab = page.locator(TAB)
    box = tab.get_by_role("textbox", name="Message")
    expect(box).to_be_focused(timeout=10_000)
    menu = tab.locator(".jo-mentions")
    box.press_sequentially("compare @", delay=30)
    expect(menu.locator("[role='option']").first).to_be_visible(timeout=15_000)
    box.press_sequentially("SAL", delay=30)
    expect(menu.locator("[role='option']").first).to_contain_text("sales.csv")
    shot(page, "mentions-0-menu-light")
    pick(box, menu, "", "sales.csv")
    box.press_sequentially("and @", delay=30)
    pick(box, menu, "été", "ventes été 2024.csv")
    box.press_sequentially("in @", delay=30)
    pick(box, menu, "dat", "data")
    paste_image(box, "chart.png")
    chips = tab.locator(".jo-attachments .jo-attachment")
    expect(chips).to_have_count(4)
    expect(chips.nth(3).locator("img.jo-attachment-thumb")).to_be_visible()
    expect(box).to_have_value('compare @sales.csv and @"ventes été 2024.csv" in @data ')
    # A chip removed before sending is not sent.
    box.press_sequentially("please", delay=10)
    shot(page, "mentions-1-tab-chips-light")
    set_theme(page, dark=True)
    shot(page, "mentions-1-tab-chips-dark")
    set_theme(page, dark=False)
    chips.nth(2).get_by_role("button", name="Remove data/").click()
    expect(chips).to_have_count(3)
    box.press("Enter")
    expect(chips).to_have_count(0)
    expect(tab.locator(".jo-msg.jo-assistant")).to_have_count(1, timeout=30_000)
    sid = str(tab.get_attribute("data-session"))
    messages = answered(lab, sid)
    sent = asked(fake_model, "compare @sales.csv")
    assert "OKAPI-77" in sent and "NARVAL-5" in sent
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in sent
    assert "january.parquet" not in sent
    assert [a["name"] for a in messages[0]["attachments"]] == [
        "sales.csv",
        "ventes été 2024.csv",
        "chart.png",
    ]
    page.reload()
    page.wait_for_selector(".jp-LabShell", timeout=60_000)
    sent_chips = page.locator(f"{TAB}[data-session='{sid}'] .jo-msg-attachments .jo-msg-ctx")
    expect(sent_chips).to_have_count(3, timeout=30_000)
    expect(sent_chips.nth(2).locator("img")).to_be_visible()
    shot(page, "mentions-2-tab-sent-light")


def test_drops_from_the_file_browser_and_the_desktop(page: Page, lab: Lab) -> None:
    open_lab(page, lab)
    sidebar(page).get_by_role("button", name="New chat").click()
    tab = page.locator(TAB)
    composer = tab.locator(".jo-composer")
    expect(composer).to_be_visible(timeout=10_000)
    page.locator("[data-id='filebrowser']").click()
    entry = page.locator(".jp-DirListing-item", has_text="sales.csv").first
    expect(entry).to_be_visible(timeout=15_000)
    start, end = entry.bounding_box(), composer.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        x = start["x"] + 20 + (end["x"] + 60 - start["x"] - 20) * step / 10
        y = start["y"] + (end["y"] + end["height"] / 2 - start["y"]) * step / 10
        page.mouse.move(x, y)
    page.mouse.up()
    chips = tab.locator(".jo-attachments .jo-attachment")
    expect(chips).to_have_count(1, timeout=10_000)
    expect(chips.first).to_contain_text("sales.csv")
    composer.evaluate(
        """(el, b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            data.items.add(new File(["x"], "notes.bin", { type: "application/octet-stream" }));
            el.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
        }""",
        base64.b64encode(PNG).decode(),
    )
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("dropped.png")
    expect(tab.locator(".jo-notices")).to_contain_text("Not attached: notes.bin")


def test_panel_mentions_a_variable_and_a_file(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    panel = run_first_cell(page, lab, NOTEBOOK)
    box = panel.get_by_role("textbox", name="Message")
    expect(box).to_be_visible(timeout=60_000)
    menu = panel.locator(".jo-mentions")
    box.click()
    box.press_sequentially("sum @", delay=30)
    expect(menu.locator("[role='option']").first).to_be_visible(timeout=15_000)
    pick(box, menu, "sal", "sales_by_region")
    expect(menu).to_be_hidden()
    expect(panel.locator(".jo-chips .jo-chip")).to_contain_text("sales_by_region", timeout=15_000)
    box.press_sequentially("with @", delay=30)
    pick(box, menu, "sales.c", "sales.csv")
    expect(panel.locator(".jo-attachments .jo-attachment")).to_have_count(1)
    expect(menu).to_be_hidden()
    shot(page, "mentions-3-panel-light")
    box.press("Enter")
    expect(panel.locator(".jo-msg.jo-assistant .jo-body").last).not_to_be_empty(timeout=60_000)
    sent = asked(fake_model, "sum @sales_by_region")
    assert "pandas DataFrame, shape (2, 2)" in sent and "OKAPI-77" in sent
    set_theme(page, dark=True)
    shot(page, "mentions-3-panel-dark")


def test_tab_adds_a_plot_output_as_an_image(
    page: Page, lab: Lab, fake_model: FakeModelProcess
) -> None:
    open_lab(page, lab)
    page.goto(lab.notebook_url(PLOTS))
    page.wait_for_selector(".jp-NotebookPanel .jp-OutputArea-output img", timeout=60_000)
    sidebar(page).get_by_role("button", name="New chat").click()
    tab = page.locator(TAB)
    tab.get_by_role("button", name="Add output as image").click()
    chips = tab.locator(".jo-attachments .jo-attachment")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("cell-3-output-1.png")
    shot(page, "mentions-4-plot-light")
    box = tab.get_by_role("textbox", name="Message")
    box.fill("what does this plot show")
    box.press("Enter")
    expect(tab.locator(".jo-msg.jo-assistant")).to_have_count(1, timeout=30_000)
    answered(lab, str(tab.get_attribute("data-session")))
    assert "data:image/png;base64," in asked(fake_model, "what does this plot show")
