"""The panel's library actions in JupyterLab: edit and resend, rate and note, search, rewind."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from jupyter_opencode.testing import FakeModelProcess, expected_text

from .lab import Lab, run_first_cell, run_lab, shot, watched_page

pytestmark = pytest.mark.browser

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "from jupyter_opencode import Chat\nchat = Chat(auto_context=False)\nchat"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip
FIRST, SECOND, EDITED = "remember alpaca", "remember bison", "remember cheetah instead"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeModelProcess) -> Iterator[Lab]:
    """JupyterLab with a one-cell notebook that shows a chat panel."""
    with run_lab(tmp_path_factory.mktemp("lab"), fake_model.url) as lab:
        (lab.root / "library.ipynb").write_text(json.dumps(NOTEBOOK))
        yield lab


@pytest.fixture(scope="module")
def page(browser: Browser, lab: Lab) -> Iterator[Page]:
    """The notebook with its panel shown."""
    with watched_page(browser, viewport={"width": 1280, "height": 1000}) as page:
        panel = run_first_cell(page, lab, "library.ipynb")
        expect(panel).to_be_visible(timeout=60_000)
        expect(panel.locator(".jo-banner")).to_be_hidden(timeout=30_000)
        yield page


def ask(page: Page, text: str, answers: int) -> None:
    """Send `text` from the panel and wait for the `answers`-th complete answer."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    done = page.locator(".jo-chat .jo-msg.jo-assistant.jo-status-complete")
    expect(done).to_have_count(answers, timeout=60_000)


def users(page: Page) -> list[str]:
    """The user messages shown in the panel."""
    return page.locator(".jo-chat .jo-msg.jo-user .jo-body").all_inner_texts()


def test_edit_rate_search_and_rewind(page: Page) -> None:
    """Each action of the panel reaches the server and the panel shows its result."""
    ask(page, FIRST, 1)
    ask(page, SECOND, 2)

    second = page.locator(".jo-chat .jo-msg.jo-user").nth(1)
    second.hover()
    second.get_by_role("button", name="Edit and resend").click()
    second.get_by_role("textbox", name="Edited message").fill(EDITED)
    shot(page, "library-1-edit")
    second.get_by_role("button", name="Send as a new branch").click()
    expect(page.locator(".jo-chat .jo-msg.jo-user .jo-body")).to_have_text(
        [FIRST, EDITED], timeout=60_000
    )
    last = page.locator(".jo-chat .jo-msg.jo-assistant").nth(1)
    expect(last).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    expect(last.locator(".jo-body")).to_contain_text(expected_text(EDITED).splitlines()[0])

    answer = page.locator(".jo-chat .jo-msg.jo-assistant").first
    answer.hover()
    answer.get_by_role("button", name="Good answer").click()
    answer.get_by_role("button", name="Note").click()
    answer.get_by_role("textbox", name="Note").fill("the alpaca answer was spot on")
    answer.get_by_role("button", name="Save note").click()
    expect(answer.locator(".jo-annot-note")).to_have_text("the alpaca answer was spot on")
    expect(answer.locator(".jo-annot-up")).to_be_visible()
    shot(page, "library-2-noted")

    box = page.get_by_role("textbox", name="Message")
    box.fill("/search spot on")
    box.press("Enter")
    results = page.locator(".jo-chat .jo-search")
    expect(results.locator("mark").first).to_have_text(re.compile("spot", re.I), timeout=30_000)
    shot(page, "library-3-search")

    edited = page.locator(".jo-chat .jo-msg.jo-user").nth(1)
    edited.hover()
    rewind = edited.get_by_role("button", name="Rewind: take back this message and what follows")
    rewind.click()
    rewind.click()
    expect(page.locator(".jo-chat .jo-msg")).to_have_count(2, timeout=30_000)
    assert users(page) == [FIRST]
    shot(page, "library-4-rewound")

    # The original conversation is intact, and a search hit opens it.
    box.fill("/search bison")
    box.press("Enter")
    hit = results.get_by_role("button").filter(has_text="bison").first
    expect(hit).to_be_visible(timeout=30_000)
    hit.click()
    expect(page.locator(".jo-chat .jo-msg.jo-user .jo-body")).to_have_text(
        [FIRST, SECOND], timeout=30_000
    )
    shot(page, "library-5-original")
