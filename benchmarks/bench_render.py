"""Browser main-thread cost of a long streamed reply, in the notebook panel and the sidebar tab.

JupyterLab on the fake model; Chromium's ``Performance.getMetrics`` (CDP) is read before and
after a 2,000-chunk reply streamed at ~100 chunks/s: ``TaskDuration`` is the main thread's busy
time, ``LayoutDuration`` its layout share. The same page left idle for as long is the baseline.
The floor is the cheapest live text the page can show: the same words at the same pace,
appended as plain text to one element at the end of the same list (which follows it down), at
most once per 40 ms like the renderer, with no WebSocket, Markdown or model behind it: what
the browser itself costs for streaming text there, so ``ours / floor`` is the renderer's share.
The layouts of each (about one a frame that showed text) say how often each showed it: the
renderer shows text less often than every 40 ms when its frames are dear (js/src/pacer.js).
Floor and reply alternate ROUNDS times in each page and the median of each is reported: the
same page's cost varies by a third from one run to the next on a shared machine. The sidebar
figures need the labextension's conversation tab; the opening time of a stored 2,000-message
session is measured in it too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, WebSocket, expect

from chrome_trace import traced
from harness import Figure, median, print_table
from jupyter_opencode.server.store import SessionStore
from jupyter_opencode.testing import FakeModelProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser.lab import Lab, chromium, run_first_cell, run_lab

BENCH = "render"
CHUNKS = 2000
PACE = 0.01
PROMPT = f"[[slow:{CHUNKS}:{PACE}]] render run"
LONG_MESSAGES = 2000
ROUNDS = 5
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "chat",
            "metadata": {},
            "outputs": [],
            "source": "from jupyter_opencode import Chat\n\nchat = Chat()\nchat",
        }
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
COMPLETE = ".jo-msg.jo-assistant.jo-status-complete"
# Set by --trace: where the long reply's main-thread time goes (tracing adds its own cost).
TRACE = False


def metrics(cdp: Any) -> dict[str, float]:
    """Chromium's performance counters of the page."""
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def cost(cdp: Any, action: Any) -> tuple[float, float, float, float]:
    """Main-thread task and layout seconds spent while ``action`` runs, its wall seconds and
    how many layouts it took (about one per frame that showed text)."""
    before = metrics(cdp)
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    after = metrics(cdp)
    spent = {k: after[k] - before[k] for k in after if k.endswith(("Duration", "Count"))}
    print("  ".join(f"{k} {v:.2f}" for k, v in spent.items()), file=sys.stderr)
    return spent["TaskDuration"], spent["LayoutDuration"], wall, spent["LayoutCount"]


class Frames:
    """WebSocket frames the page receives: on the stream socket (a tab) or a kernel's (a panel)."""

    def __init__(self, page: Page) -> None:
        self.counts: Counter[str] = Counter()
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        kinds = {"/opencode/stream": "stream", "/channels": "kernel"}
        kind = next((k for part, k in kinds.items() if part in ws.url), "other")
        ws.on("framereceived", lambda _: self.counts.update([kind]))


def tracing(browser: Any, page: Page) -> AbstractContextManager[None]:
    """A Chromium trace of the page summed by event name, with --trace; else nothing."""
    return traced(browser, page) if TRACE else nullcontext()


def ask(page: Page, scope: str, text: str) -> None:
    """Send `text` from the Message box inside `scope`."""
    box = page.locator(scope).get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


# The id of the newest answer in `scope`.
NEWEST = """(scope) => {
  const answers = document.querySelectorAll(scope + ' .jo-msg.jo-assistant');
  return answers.length ? answers[answers.length - 1].dataset.id : null;
}"""
# The newest answer in `scope` is not `before`, is complete and holds the last chunk (older
# ones may be scrolled out of the DOM by then).
DONE = f"""([scope, before]) => {{
  const answers = document.querySelectorAll(scope + ' .jo-msg.jo-assistant');
  const last = answers[answers.length - 1];
  return !!last && last.dataset.id !== before && last.matches('.jo-status-complete')
    && last.textContent.includes('s{CHUNKS - 1} ');
}}"""


# The floor: CHUNKS words at PACE appended to a plain element at the end of the list in
# `scope`, shown at most once per 40 ms, the list kept scrolled to the end.
FLOOR = f"""(scope) => new Promise((resolve) => {{
  const list = document.querySelector(scope + ' .jo-list');
  const el = document.createElement('div');
  const text = document.createTextNode('');
  el.append(text);
  list.append(el);
  let next = 0, pending = '', shownAt = 0, frame = 0;
  const show = () => {{
    frame = 0;
    shownAt = performance.now();
    text.appendData(pending);
    pending = '';
    list.scrollTop = list.scrollHeight;
    if (next === {CHUNKS}) {{ el.remove(); resolve(); }}
  }};
  const timer = setInterval(() => {{
    pending += 's' + next + ' ';
    next += 1;
    if (next === {CHUNKS}) clearInterval(timer);
    if (!frame) frame = setTimeout(() => requestAnimationFrame(show),
                                   Math.max(0, shownAt + 40 - performance.now()));
  }}, {PACE * 1000});
}})"""


def floor(browser: Any, page: Page, cdp: Any, scope: str) -> tuple[float, float]:
    """Main-thread seconds of the floor in `scope`, and its layouts."""
    with tracing(browser, page):
        task, _, _, layouts = cost(cdp, lambda: page.evaluate(FLOOR, scope))
    return task, layouts


def stream_reply(page: Page, scope: str) -> None:
    """Ask for the long reply in `scope` and wait until it is complete."""
    before = page.evaluate(NEWEST, scope)
    ask(page, scope, PROMPT)
    timeout = CHUNKS * PACE * 1000 + 120_000
    page.wait_for_function(DONE, arg=[scope, before], timeout=timeout, polling=250)


def rounds(
    browser: Any, page: Page, cdp: Any, scope: str, frames: Frames, socket: str
) -> dict[str, float]:
    """Floor and long reply in `scope`, alternating ROUNDS times: the medians of each figure
    (`socket`: the kind of socket whose frames are counted)."""
    runs: list[dict[str, float]] = []
    for _ in range(ROUNDS):
        base, base_layouts = floor(browser, page, cdp, scope)
        frames.counts.clear()
        with tracing(browser, page):
            task, layout, wall, layouts = cost(cdp, lambda: stream_reply(page, scope))
        received = frames.counts[socket]
        runs.append({"task": task, "layout": layout, "wall": wall, "base": base,
                     "ratio": task / max(base, 0.001), "received": received,
                     "layouts": layouts, "base_layouts": base_layouts})  # fmt: skip
    print("ours / floor by round: " + ", ".join(f"{r['ratio']:.2f}" for r in runs), file=sys.stderr)
    return {key: median([r[key] for r in runs]) for key in runs[0]}


def panel(lab: Lab, browser: Any) -> list[Figure]:
    """The notebook panel (kernel path): idle baseline, then the long reply."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    frames = Frames(page)
    run_first_cell(page, lab, "render.ipynb")
    expect(page.locator(".jo-chat .jo-banner")).to_be_hidden(timeout=60_000)
    ask(page, ".jo-chat", "[[long:3]] warm up the worker")
    expect(page.locator(f".jo-chat {COMPLETE}")).to_have_count(1, timeout=90_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    idle, _, _, _ = cost(cdp, lambda: page.wait_for_timeout(CHUNKS * PACE * 1000))
    medians = rounds(browser, page, cdp, ".jo-chat", frames, "kernel")
    page.close()
    return figures("panel", medians, idle)


def figures(host: str, medians: dict[str, float], idle: float) -> list[Figure]:
    """The figures of one host's long reply (medians of the rounds), against its idle page and
    its floor."""
    socket = "the kernel's socket (comm and all)" if host == "panel" else "the stream socket"
    note = (
        f"{CHUNKS} chunks in {medians['wall']:.1f} s; idle page for {CHUNKS * PACE:.0f} s:"
        f" {idle:.2f} s; medians of {ROUNDS} rounds"
    )
    ratio_note = f"median of the {ROUNDS} rounds' ratios"
    return [
        Figure(BENCH, f"{host}: main thread, long reply", medians["task"], "s", note=note),
        Figure(BENCH, f"{host}: layout, long reply", medians["layout"], "s"),
        Figure(
            BENCH,
            f"{host}: layouts, long reply",
            medians["layouts"],
            "",
            note=f"floor: {medians['base_layouts']:.0f} (about one a frame that showed text)",
        ),
        Figure(BENCH, f"{host}: floor, plain text every 40 ms", medians["base"], "s"),
        Figure(BENCH, f"{host}: ours / floor", medians["ratio"], "x", 1.0, note=ratio_note),
        Figure(
            BENCH, f"{host}: frames received, long reply", medians["received"], "", 600, note=socket
        ),
    ]


# Seconds from the open command to the session's messages on screen, timed in the page.
OPEN = """async (id) => {
  const started = performance.now();
  await window.jupyterapp.commands.execute('jupyter-opencode:open', {id});
  const selector = `.jo-tab[data-session='${id}'] .jo-msg`;
  while (!document.querySelector(selector)) await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - started;
}"""


def sidebar(lab: Lab, browser: Any, long_session: str) -> list[Figure]:
    """The labextension's conversation tab (no kernel): long reply, then a long session opened."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    frames = Frames(page)
    page.goto(f"{lab.url}lab?token={lab.token}&reset")
    page.wait_for_selector(".jp-LabShell", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-opencode:new-chat')")
    tab = ".jp-MainAreaWidget:not(.lm-mod-hidden) > .jo-tab"
    page.wait_for_selector(f"{tab} .jo-chat", timeout=30_000)
    ask(page, tab, "[[long:3]] warm up the worker")
    expect(page.locator(f"{tab} {COMPLETE}")).to_have_count(1, timeout=90_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    idle, _, _, _ = cost(cdp, lambda: page.wait_for_timeout(CHUNKS * PACE * 1000))
    results = figures("sidebar tab", rounds(browser, page, cdp, tab, frames, "stream"), idle)

    opened = page.evaluate(OPEN, long_session) / 1000
    in_dom = page.locator(f"[data-session='{long_session}'] .jo-msg").count()
    note = f"{LONG_MESSAGES} messages, {in_dom} in the DOM"
    results.append(Figure(BENCH, "sidebar tab: open a long session", opened, "s", 1.0, note=note))
    page.close()
    return results


async def seed_long_session(db: Path) -> str:
    """A stored session of LONG_MESSAGES short messages (written straight to the store)."""
    store = SessionStore(db)
    await store.open()
    sid = uuid.uuid4().hex
    try:
        for i in range(LONG_MESSAGES // 2):
            now = time.time() - LONG_MESSAGES + i
            user = {"id": uuid.uuid4().hex, "session_id": sid, "role": "user", "status": "complete",
                    "content": f"question {i}", "error": None, "model": None, "created_at": now,
                    "completed_at": now, "context": []}  # fmt: skip
            answer = {**user, "id": uuid.uuid4().hex, "role": "assistant", "status": "pending",
                      "content": ""}  # fmt: skip
            await store.start_turn(sid, user, answer, None)
            text = f"Answer **{i}**:\n\n- one\n- two\n\n```python\nx = {i}\n```\n"
            await store.finish_message({"id": answer["id"], "session_id": sid,
                                        "status": "complete", "content": text, "error": None,
                                        "parts": [], "tokens": 0, "cost": 0.0,
                                        "completed_at": now})  # fmt: skip
    finally:
        await store.close()
    return sid


def main() -> None:
    """Run JupyterLab on the fake model, measure both hosts, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--only", choices=["panel", "tab"], help="measure one host only")
    parser.add_argument("--trace", action="store_true", help="print main-thread time by event")
    args = parser.parse_args()
    global TRACE
    TRACE = args.trace
    with tempfile.TemporaryDirectory(prefix="jo-bench-render-") as name, FakeModelProcess() as fake:
        tmp = Path(name)
        long_session = asyncio.run(seed_long_session(tmp / "sessions.db"))
        with run_lab(tmp, fake.url) as lab, chromium() as browser:
            (lab.root / "render.ipynb").write_text(json.dumps(NOTEBOOK))
            results = [] if args.only == "tab" else panel(lab, browser)
            if args.only != "panel":
                results += sidebar(lab, browser, long_session)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in results]))


if __name__ == "__main__":
    main()
