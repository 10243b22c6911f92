"""The agent changes and runs cells of notebooks open in JupyterLab, after "Allow once"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Page, expect

from jupyter_opencode.testing import FakeModelProcess

from .lab import Lab, chromium, run_first_cell, run_lab, shot

pytestmark = pytest.mark.browser

CHAT = "from jupyter_opencode import Chat\nchat = Chat()\nchat"
LIVE = "live.ipynb"
OTHER = "other.ipynb"
# The cells of an open notebook as its shared model holds them (what the user sees).
CELLS = """(path) => {
  let found = null;
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === path) found = w;
  }
  return {dirty: found.context.model.dirty, cells: found.context.model.sharedModel.cells
    .map(c => ({source: c.getSource(), outputs: c.cell_type === 'code'
      ? c.toJSON().outputs.map(o => o.text || (o.data && o.data['text/plain']) || '').join('')
      : ''}))};
}"""


def write(root: Path, name: str, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"{name[:2]}{i}") for i, s in enumerate(sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (root / name).write_text(nbformat.writes(nb))


def on_disk(lab: Lab, name: str) -> list[str]:
    return [c.source for c in nbformat.read(lab.root / name, as_version=4).cells]


def state(page: Page, path: str) -> dict[str, Any]:
    return page.evaluate(CELLS, path)


def sources(page: Page, path: str) -> list[str]:
    return [c["source"] for c in state(page, path)["cells"]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab with two notebooks whose cells look alike."""
    with run_lab(tmp_path_factory.mktemp("nbtools"), fake_model.url) as lab:
        write(lab.root, LIVE, [CHAT, "x = 1", "y = 2"])
        write(lab.root, OTHER, ["x = 1", "y = 2"])
        yield lab


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[Page]:
    """Both notebooks open side by side; the chat panel shown in the first one."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        expect(run_first_cell(page, lab, LIVE)).to_be_visible(timeout=60_000)
        page.evaluate(
            "(path) => window.jupyterapp.commands.execute('docmanager:open',"
            " {path, options: {mode: 'split-right'}})",
            OTHER,
        )
        page.wait_for_function(
            "() => [...window.jupyterapp.shell.widgets('main')].length === 2", timeout=30_000
        )
        yield page
    assert errors == []


def ask(page: Page, *steps: tuple[str, dict[str, Any]]) -> None:
    """Type a prompt making the fake model call these notebook tools, in order."""
    text = " ".join(f"[[notebook {tool} {json.dumps(args)}]]" for tool, args in steps)
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def answer(page: Page, reply: str) -> None:
    """Wait for the next notebook approval prompt and click `reply` in it."""
    prompt = page.locator(".jo-chat .jo-permission").last
    expect(prompt.locator(".jo-nbdiff")).to_be_visible(timeout=60_000)
    prompt.get_by_role("button", name=reply).click()
    expect(prompt.get_by_role("button", name=reply)).to_have_count(0, timeout=10_000)


def last_answer(page: Page) -> str:
    message = page.locator(".jo-chat .jo-msg.jo-assistant").last
    expect(message).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    return message.locator(".jo-body").inner_text()


def test_changes_appear_in_the_open_notebook_only_after_allow(page: Page, lab: Lab) -> None:
    ask(
        page,
        ("edit_cell", {"path": LIVE, "cell": 1, "source": "x = 41"}),
        ("insert_cell", {"path": LIVE, "index": 2, "source": "print(x * 2)"}),
        ("delete_cell", {"path": LIVE, "cell": 3}),
        ("move_cell", {"path": LIVE, "cell": 2, "index": 1}),
        ("run_cell", {"path": LIVE, "cell": 2}),
        ("run_cell", {"path": LIVE, "cell": 1}),
    )
    prompt = page.locator(".jo-chat .jo-permission").last
    expect(prompt.locator(".jo-nbdiff")).to_be_visible(timeout=60_000)
    expect(prompt.locator(".jo-nbdiff-del")).to_have_text("-x = 1")
    expect(prompt.locator(".jo-nbdiff-add")).to_have_text("+x = 41")
    prompt.scroll_into_view_if_needed()
    shot(page, "notebook-approval-edit")
    assert sources(page, LIVE) == [CHAT, "x = 1", "y = 2"], "changed before approval"

    answer(page, "Allow once")
    page.wait_for_function(f"(p) => ({CELLS})(p).cells[1].source === 'x = 41'", arg=LIVE)
    assert state(page, LIVE)["dirty"] is True
    answer(page, "Allow once")
    page.wait_for_function(f"(p) => ({CELLS})(p).cells.length === 4", arg=LIVE)
    assert sources(page, LIVE) == [CHAT, "x = 41", "print(x * 2)", "y = 2"]
    answer(page, "Allow once")
    page.wait_for_function(f"(p) => ({CELLS})(p).cells.length === 3", arg=LIVE)
    answer(page, "Allow once")
    page.wait_for_function(f"(p) => ({CELLS})(p).cells[1].source === 'print(x * 2)'", arg=LIVE)
    answer(page, "Allow once")
    prompt = page.locator(".jo-chat .jo-permission").last
    expect(prompt.locator(".jo-nbdiff")).to_contain_text("Run cell 1")
    shot(page, "notebook-approval-run")
    answer(page, "Allow once")
    said = last_answer(page)
    assert "82" in said and "Ran cell 1" in said
    live = state(page, LIVE)["cells"]
    assert [c["source"] for c in live] == [CHAT, "print(x * 2)", "x = 41"]
    assert live[1]["outputs"].strip() == "82"
    assert sources(page, OTHER) == ["x = 1", "y = 2"], "the other notebook was touched"
    assert on_disk(lab, LIVE) == [CHAT, "x = 1", "y = 2"], "the file was written under the editor"
    assert on_disk(lab, OTHER) == ["x = 1", "y = 2"]
    shot(page, "notebook-changed")

    page.locator(".jp-NotebookPanel").first.locator(".jp-Cell").nth(1).click()
    page.keyboard.press("Control+s")
    page.wait_for_function(f"(p) => !({CELLS})(p).dirty", arg=LIVE, timeout=30_000)
    assert on_disk(lab, LIVE) == [CHAT, "print(x * 2)", "x = 41"]


def test_undo_restores_the_exact_cells_in_the_open_notebook(page: Page, lab: Lab) -> None:
    first = page.locator(".jo-chat .jo-msg.jo-assistant").first
    button = first.get_by_role("button", name="Undo notebook changes")
    button.scroll_into_view_if_needed()
    button.click()
    expect(first.locator(".jo-nbundo-note")).to_have_text(
        "Restored 4 cell change(s).", timeout=30_000
    )
    expect(button).to_have_count(0)
    live = page.evaluate(
        "(p) => [...window.jupyterapp.shell.widgets('main')].find(w => w.context.path === p)"
        ".context.model.sharedModel.cells.map(c => [c.getId(), c.getSource()])",
        LIVE,
    )
    assert live == [["li0", CHAT], ["li1", "x = 1"], ["li2", "y = 2"]]
    counts = page.evaluate(
        "(p) => [...window.jupyterapp.shell.widgets('main')].find(w => w.context.path === p)"
        ".context.model.sharedModel.cells.map(c => [c.execution_count, c.outputs.length])",
        LIVE,
    )
    assert counts[1:] == [[None, 0], [None, 0]], "the run's outputs outlived the undo"
    assert state(page, LIVE)["dirty"] is True
    assert on_disk(lab, LIVE) == [CHAT, "print(x * 2)", "x = 41"], "undo wrote the file"
    shot(page, "notebook-undone")


def test_reject_leaves_the_open_notebook(page: Page) -> None:
    before = sources(page, OTHER)
    ask(page, ("delete_cell", {"path": OTHER, "cell": 0}))
    prompt = page.locator(".jo-chat .jo-permission").last
    expect(prompt.locator(".jo-nbdiff")).to_contain_text(f"Delete cell 0 of {OTHER}")
    answer(page, "Reject")
    assert "The user rejected this change" in last_answer(page)
    assert sources(page, OTHER) == before


def test_rewinding_before_a_change_offers_its_undo(page: Page, lab: Lab) -> None:
    before = sources(page, OTHER)
    ask(page, ("edit_cell", {"path": OTHER, "cell": 1, "source": "y = 'rewound'"}))
    answer(page, "Allow once")
    last_answer(page)
    assert sources(page, OTHER) == [before[0], "y = 'rewound'"]
    question = page.locator(".jo-chat .jo-msg.jo-user").last
    question.hover()
    rewind = question.get_by_role("button", name="Rewind: take back this message and what follows")
    rewind.click()
    rewind.click()
    offer = page.locator(".jo-chat .jo-offer")
    expect(offer).to_contain_text("The answers taken back had changed notebooks.", timeout=30_000)
    shot(page, "notebook-rewound-offer")
    offer.get_by_role("button", name="Undo notebook changes").click()
    expect(offer.locator(".jo-nbundo-note")).to_have_text(
        "Restored 1 cell change(s).", timeout=30_000
    )
    assert sources(page, OTHER) == before
    shot(page, "notebook-rewound-undone")
    offer.get_by_role("button", name="Dismiss").click()
    expect(offer).to_have_count(0)


PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)
PLOT = f"import base64\nfrom IPython.display import Image\nImage(data=base64.b64decode('{PNG}'))"


def test_run_outputs_and_variables_reach_the_agent(
    page: Page, fake_model: FakeModelProcess
) -> None:
    fake_model.clear()
    count = len(sources(page, LIVE))
    ask(
        page,
        ("insert_cell", {"path": LIVE, "index": count, "source": "1 / 0"}),
        ("insert_cell", {"path": LIVE, "index": count + 1, "source": PLOT}),
        ("run_cell", {"path": LIVE, "cell": count}),
        ("run_cell", {"path": LIVE, "cell": count + 1}),
        ("list_variables", {"path": LIVE}),
        ("list_notebooks", {}),
    )
    answer(page, "Always")  # the first insertion; the second one is not asked for
    page.wait_for_function(f"(p) => ({CELLS})(p).cells.length === {count + 2}", arg=LIVE)
    answer(page, "Always")  # the first run; the second one is not asked for
    said = last_answer(page)  # only ends if the later calls were not asked for again
    cells = page.locator(".jp-NotebookPanel").first.locator(".jp-Cell")
    expect(cells.nth(count).locator(".jp-OutputArea-output")).to_contain_text("ZeroDivisionError")
    expect(cells.nth(count + 1).locator(".jp-OutputArea-output img")).to_have_count(1)
    assert "ZeroDivisionError: division by zero" in said
    assert "[image: image/png] (1 image(s) attached)" in said
    assert "x: int (41)" in said
    assert f"{LIVE} (open in JupyterLab, kernel running)" in said
    assert f"{OTHER} (open in JupyterLab, kernel running)" in said
    sent = json.dumps(fake_model.requests()[-1]["messages"])
    assert PNG[:40] in sent, "the image did not reach the model"
    shot(page, "notebook-run-outputs")
