"""One click to the answer: Explain on an error -> the answer's first words in the chat panel.

JupyterLab runs a notebook with the Chat panel and a failing cell, on the demo model with a
warm worker. The baseline, in the same page: the same question typed in the composer (Enter)
with the same cell attached by Auto context. Each figure is a median over alternating rounds,
timed in the page from the click (or the Enter key) to the first words of the new answer.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from playwright.sync_api import Page, expect

from harness import Figure, print_table
from jupyter_opencode.testing import FakeModelProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser.lab import Lab, chromium, run_lab, wait_kernel_idle

BENCH = "oneclick"
ROUNDS = 12
# The one-click path adds a DOM event and one comm message before the same prompt.
RATIO_TARGET = 1.2
SOURCES = [
    "from jupyter_opencode import Chat\nchat = Chat()\nchat",
    'd = {"color": "red"}',
    'd["colour"]',
]
QUESTION = "Why did Cell [3] fail? Explain the error attached and how to fix it."
# Milliseconds from the last click on Explain (or Enter in the composer) to the first words of
# a new answer in the panel.
WATCH = """() => {
  const chat = document.querySelector('.jp-Notebook .jo-chat');
  const last = () => {
    const all = chat.querySelectorAll('.jo-msg.jo-assistant');
    return all.length ? all[all.length - 1] : null;
  };
  const mark = () => {
    window.__start = performance.now();
    window.__before = last()?.dataset.id ?? '';
    window.__first = null;
  };
  new MutationObserver(() => {
    if (window.__start == null || window.__first != null) return;
    const answer = last();
    const body = answer?.querySelector('.jo-body');
    if (answer && answer.dataset.id !== window.__before && body?.textContent.trim()) {
      window.__first = performance.now() - window.__start;
    }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
  document.addEventListener('click', e => e.target.closest('.jo-errbar-btn') && mark(), true);
  const typed = e => e.key === 'Enter' && e.target.closest('.jo-chat');
  document.addEventListener('keydown', e => typed(e) && mark(), true);
}"""


def notebook() -> str:
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
         "outputs": [], "source": source}
        for i, source in enumerate(SOURCES)
    ]  # fmt: skip
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    return json.dumps({"cells": cells, "metadata": {"kernelspec": kernelspec},
                       "nbformat": 4, "nbformat_minor": 5})  # fmt: skip


def first_words(page: Page) -> float:
    """Wait for the answer to start and to end; return ms to its first words."""
    page.wait_for_function("() => window.__first != null", timeout=60_000)
    answer = page.locator(".jp-Notebook .jo-chat .jo-msg.jo-assistant").last
    expect(answer).to_have_class(re.compile("jo-status-complete"), timeout=60_000)
    return float(page.evaluate("() => window.__first"))


def measure(lab: Lab) -> tuple[list[float], list[float]]:
    """Alternate Explain clicks and typed questions; return both lists of ms."""
    clicked: list[float] = []
    typed: list[float] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(lab.notebook_url("oneclick.ipynb"))
        wait_kernel_idle(page)
        cells = page.locator(".jp-Notebook .jp-Cell")
        for i in range(len(SOURCES)):
            cells.nth(i).locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.evaluate(WATCH)
        box = page.get_by_role("textbox", name="Message")
        box.fill("warm up")  # the worker answers once before anything is timed
        box.press("Enter")
        first_words(page)
        explain = cells.nth(2).get_by_role("button", name="Explain this error (opencode)")
        for _ in range(ROUNDS):
            explain.click()
            clicked.append(first_words(page))
            box.fill(QUESTION)
            box.press("Enter")
            typed.append(first_words(page))
    return clicked, typed


def main() -> None:
    """Run JupyterLab on the demo model, time both paths, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="jo-bench-oneclick-") as name,
        FakeModelProcess() as model,
        run_lab(Path(name), model.url) as lab,
    ):
        (lab.root / "oneclick.ipynb").write_text(notebook())
        clicked, typed = measure(lab)
    click, baseline = statistics.median(clicked), statistics.median(typed)
    note = f"median of {ROUNDS}, warm worker, demo model"
    figures = [
        Figure(BENCH, "Explain click -> first words", click, "ms", note=note),
        Figure(BENCH, "typed question -> first words (baseline)", baseline, "ms", note=note),
        Figure(BENCH, "click / typed", click / baseline, "x", RATIO_TARGET),
        Figure(BENCH, "Explain click, fastest", min(clicked), "ms"),
        Figure(BENCH, "typed question, fastest", min(typed), "ms"),
    ]
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures]))


if __name__ == "__main__":
    main()
