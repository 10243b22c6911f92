"""The composer's @ menu in a root of 10,000 files: a keystroke -> its first matches shown.

JupyterLab runs with a root of 10,000 files in 100 folders; a chat tab's message box gets
`@` and a few characters, as typing does (an input event per keystroke), and a page script
times each keystroke until the menu's first entry shows a path matching what was typed. The
baseline, from the same page and run, is a round trip of Jupyter's own `GET api/contents` of
the root folder (what any file picker pays).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from playwright.sync_api import Page, expect

from harness import Figure, print_table
from jupyter_opencode.testing import FakeModelProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser.lab import chromium, run_lab
from tests.browser.test_sidebar import TAB, open_lab, sidebar

BENCH = "mentions"
FOLDERS, PER_FOLDER = 100, 100
QUERIES = 40
TARGET_MS = 100.0
# One keystroke: the box's value and caret change and an input event fires, as typing does;
# then wait until the menu's first entry names a match of the typed text.
KEYSTROKE = """async ([tab, value, expected]) => {
  const box = document.querySelector(`${tab} textarea.jo-input`);
  const menu = document.querySelector(`${tab} .jo-mentions`);
  const started = performance.now();
  box.value = value;
  box.setSelectionRange(value.length, value.length);
  box.dispatchEvent(new Event('input', { bubbles: true }));
  for (;;) {
    const first = menu.querySelector('[role=option] .jo-slash-name');
    if (!menu.hidden && first && first.textContent.includes(expected)) {
      return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}"""
CONTENTS = """async (url) => {
  const started = performance.now();
  await (await fetch(url)).json();
  return performance.now() - started;
}"""


def make_root(root: Path) -> list[str]:
    """FOLDERS x PER_FOLDER small files; their names."""
    names = []
    for folder in range(FOLDERS):
        path = root / f"project_{folder:03d}"
        path.mkdir()
        for index in range(PER_FOLDER):
            name = f"data_{folder * PER_FOLDER + index:05d}.csv"
            (path / name).write_text("a,b\n1,2\n")
            names.append(name)
    return names


def keystrokes(page: Page, names: list[str]) -> tuple[float, list[float]]:
    """The first keystroke's time (the root not yet indexed), then the others'."""
    rng = random.Random(3)
    times = []
    for name in rng.sample(names, QUERIES + 1):
        number = name[5:10]  # "data_01234.csv" -> "01234": one match
        times.append(page.evaluate(KEYSTROKE, [TAB, f"look at @{number}", number]))
    return times[0], times[1:]


def run(tmp: Path) -> list[Figure]:
    """Time the menu's keystrokes against `api/contents` round trips."""
    with FakeModelProcess() as model, run_lab(tmp, model.url) as lab, chromium() as browser:
        names = make_root(lab.root)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        open_lab(page, lab)
        sidebar(page).get_by_role("button", name="New chat").click()
        expect(page.locator(TAB).get_by_role("textbox", name="Message")).to_be_focused()
        cold, warm = keystrokes(page, names)
        url = f"{lab.url}api/contents?token={lab.token}&content=1"
        baseline = [page.evaluate(CONTENTS, url) for _ in range(QUERIES)]
    return figures(cold, warm, baseline)


def figures(cold: float, warm: list[float], baseline: list[float]) -> list[Figure]:
    """The figures printed."""
    p50, p95 = statistics.median(warm), statistics.quantiles(warm, n=20)[18]
    base = statistics.median(baseline)
    count = f"{FOLDERS * PER_FOLDER:,} files"
    return [
        Figure(BENCH, "keystroke -> first matches, p50", p50, "ms", TARGET_MS, note=count),
        Figure(BENCH, "keystroke -> first matches, p95", p95, "ms", TARGET_MS, note=count),
        Figure(BENCH, "first keystroke (root indexed)", cold, "ms", note="informative"),
        Figure(BENCH, "baseline: GET api/contents of the root", base, "ms"),
        Figure(BENCH, "p50 / baseline", p50 / base, "x", note="same page, same run"),
    ]


def main() -> None:
    """Run, print the table, optionally save JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jo-bench-") as tmp:
        result = run(Path(tmp))
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in result]))


if __name__ == "__main__":
    main()
