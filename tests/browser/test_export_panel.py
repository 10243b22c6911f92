"""`/export` in the chat panel of a real JupyterLab: the file arrives as a browser download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser, expect

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .lab import Lab, run_first_cell, run_lab, shot

pytestmark = pytest.mark.browser

QUESTION = "how do I export this?"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab on the fake model, with a notebook whose only cell shows a chat panel."""
    with run_lab(tmp_path_factory.mktemp("lab"), fake_model.url) as lab:
        kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernel})
        cell = nbformat.v4.new_code_cell("from jupyter_opencode import Chat\nChat()")
        notebook.cells.append(cell)
        nbformat.write(notebook, lab.root / "export.ipynb")
        yield lab


def test_export_command_downloads_the_conversation(browser: Browser, lab: Lab) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    panel = run_first_cell(page, lab, "export.ipynb")
    expect(panel.locator(".jo-banner")).to_be_hidden(timeout=60_000)
    box = panel.get_by_role("textbox", name="Message")
    box.fill(QUESTION)
    box.press("Enter")
    answer = panel.locator(".jo-msg.jo-assistant").first
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)

    for fmt in ("md", "pdf"):
        with page.expect_download(timeout=30_000) as info:
            box.fill(f"/export {fmt}")
            box.press("Enter")
        download = info.value
        data = Path(download.path()).read_bytes()
        assert download.suggested_filename.endswith(f".{fmt}")
        if fmt == "md":
            text = data.decode()
            assert text.startswith("# ") and QUESTION in text
            assert expected_text(QUESTION).strip() in text
        else:
            assert data.startswith(b"%PDF-")
    expect(panel.locator(".jo-notices")).to_contain_text("Exported ")
    shot(page, "export-downloaded")
    context.close()
    assert errors == []
