"""An isolated JupyterLab subprocess with the extension on the fake model, and Chromium for it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Error, Locator, Page, expect

from jupyter_opencode.testing import JupyterProcess as Lab
from jupyter_opencode.testing import chromium, opencode_config

__all__ = [
    "QUICKSTART",
    "Lab",
    "chromium",
    "run_first_cell",
    "run_lab",
    "shot",
    "wait_kernel_idle",
    "watched_page",
]

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
SHOTS = REPO / "test-artifacts" / "browser"


@contextmanager
def run_lab(
    tmp: Path, model_url: str, extra_args: Sequence[str] = (), notebook: bool = False
) -> Iterator[Lab]:
    """Start JupyterLab (or Notebook 7) in `tmp` with the extension on the model at `model_url`."""
    config = tmp / "opencode.json"
    config.write_text(json.dumps(opencode_config(model_url)))
    home = tmp / "worker-home"
    with Lab(
        tmp,
        lab=True,
        notebook=notebook,
        opencode_config=config,
        worker_home=home,
        extra_args=extra_args,
    ) as lab:
        yield lab


@contextmanager
def watched_page(browser: Browser, ignore: Sequence[str] = (), **options: Any) -> Iterator[Page]:
    """A page in a new browser context (1400x900 unless told); no page error on leaving it."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 900}, **options})
    page = context.new_page()
    errors: list[Error] = []
    page.on("pageerror", lambda exc: errors.append(exc))
    yield page
    context.close()
    unexpected = [e.stack or str(e) for e in errors if str(e) not in ignore]
    assert not unexpected, "page errors:\n" + "\n".join(unexpected)


def wait_kernel_idle(page: Page) -> None:
    """Wait until the open notebook has a kernel and it is idle (else Shift+Enter is dropped)."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    kernel = page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")
    expect(kernel).not_to_have_text("No Kernel", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def run_first_cell(page: Page, lab: Lab, notebook: str) -> Locator:
    """Open `notebook`, run its first cell (the one showing a Chat); return the panel."""
    page.goto(lab.notebook_url(notebook))
    wait_kernel_idle(page)
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    return page.locator(".jp-Notebook .jo-chat")


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the whole window under test-artifacts/browser/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled")
