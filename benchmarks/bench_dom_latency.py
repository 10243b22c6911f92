"""Added latency of the chat panel: a chunk on the server's WebSocket -> its text in the DOM.

JupyterLab runs a notebook with the Chat widget (the real kernel path: server -> kernel client
-> frame coalescing -> widget comm -> browser). A plain WebSocket client subscribed to the same
session is the baseline: for each chunk word of a paced reply, the figure is the time the word
appeared in the DOM (a MutationObserver in the page) minus the time the plain client got it.
The target is two intervals of the cadence in use: the server's, or the view's pacer's when it
shows text less often because the page's frames are expensive (js/src/pacer.js).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from playwright.sync_api import Page, expect
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from harness import Figure, print_table
from jupyter_opencode.testing import FakeModelProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser.lab import Lab, chromium, run_first_cell, run_lab

BENCH = "dom_latency"
CHUNKS = 150
PACE = 0.05
# The cadence in use: the server's stream_cadence_ms, the kernel's frames, the pacer's fastest.
CADENCE_MS = 40
PROMPT = f"[[slow:{CHUNKS}:{PACE}]] latency run"
WORD = re.compile(r"\bs(\d+) ")
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "chat",
            "metadata": {},
            "outputs": [],
            "source": "from jupyter_opencode import Chat\n\n"
            "chat = Chat()\nprint(chat.session_id)\nchat",
        }
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
# Wall-clock ms at which each chunk word first appears in the newest assistant message.
WATCH = """() => {
  const chat = document.querySelector('.jo-chat');
  window.__seen = {};
  window.__pace = {};
  new MutationObserver(() => {
    const t = performance.timeOrigin + performance.now();
    const bodies = chat.querySelectorAll('.jo-msg.jo-assistant .jo-body');
    const text = bodies.length ? bodies[bodies.length - 1].textContent : '';
    const pace = Number(chat.querySelector('[data-pace-ms]')?.dataset.paceMs || 0);
    for (const m of text.matchAll(/\\bs(\\d+) /g)) {
      if (!(m[1] in window.__seen)) {
        window.__seen[m[1]] = t;
        window.__pace[m[1]] = pace;
      }
    }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


class PlainClient:
    """A WebSocket client of opencode/stream in its own thread, timing each text chunk word."""

    def __init__(self, lab: Lab, session_id: str) -> None:
        self.arrivals: dict[int, float] = {}
        self.done = threading.Event()
        self._ready = threading.Event()
        # Every delta as it comes: the server's merging to the panel's cadence counts as added.
        self._url = f"ws://127.0.0.1:{lab.port}/opencode/stream?cadence_ms=0"
        self._token = lab.token
        self._session_id = session_id
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        """Connect and subscribe; return once subscribed."""
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the plain WebSocket client did not connect")

    async def _run(self) -> None:
        request = HTTPRequest(self._url, headers={"Authorization": f"token {self._token}"})
        ws = await websocket_connect(request)
        await ws.read_message()  # {"type": "connected"}
        subscribe = {"type": "subscribe", "session_id": self._session_id, "after_seq": 0}
        await ws.write_message(json.dumps(subscribe))
        self._ready.set()
        while not self.done.is_set():
            raw = await ws.read_message()
            now = time.time() * 1000
            if raw is None:
                break
            frame = json.loads(raw)
            if frame.get("type") == "chunk" and frame.get("kind") == "text":
                for match in WORD.finditer(frame["delta"]):
                    self.arrivals.setdefault(int(match.group(1)), now)
            elif frame.get("type") == "message" and self.arrivals:
                message = frame["message"]
                if message["role"] == "assistant" and message["status"] != "pending":
                    self.done.set()
        ws.close()


def clock_offset(page: Page) -> float:
    """Browser wall clock minus Python's, in ms (the sample with the shortest round trip)."""
    samples = []
    for _ in range(20):
        before = time.time() * 1000
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        samples.append((after - before, browser - (before + after) / 2))
    return min(samples)[1]


def ask(page: Page, text: str) -> None:
    """Send `text` from the panel's Message box."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def measure(lab: Lab) -> tuple[list[float], list[float]]:
    """Added DOM latency of each chunk word of one paced reply, and the cadence it showed at."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        run_first_cell(page, lab, "latency.ipynb")
        output = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']"
        )
        session_id = output.first.inner_text(timeout=60_000).strip()
        expect(page.locator(".jo-chat .jo-banner")).to_be_hidden(timeout=60_000)
        ask(page, "[[long:3]] warm up the worker")
        expect(page.locator(".jo-msg.jo-assistant.jo-status-complete")).to_have_count(
            1, timeout=90_000
        )
        client = PlainClient(lab, session_id)
        client.start()
        page.evaluate(WATCH)
        offset = clock_offset(page)
        ask(page, PROMPT)
        if not client.done.wait(CHUNKS * PACE + 60):
            raise RuntimeError("the paced reply did not finish")
        expect(page.locator(".jo-msg.jo-assistant.jo-status-complete")).to_have_count(
            2, timeout=30_000
        )
        seen = {int(k): v - offset for k, v in page.evaluate("window.__seen").items()}
        paces = {int(k): v for k, v in page.evaluate("window.__pace").items()}
    shown = [i for i in sorted(client.arrivals) if i in seen]
    return [seen[i] - client.arrivals[i] for i in shown], [paces[i] for i in shown]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> None:
    """Run JupyterLab on the fake model, measure one paced reply, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--cadence-ms", type=int, default=CADENCE_MS, help="the server's stream_cadence_ms"
    )
    args = parser.parse_args()
    server = [f"--OpencodeExtension.stream_cadence_ms={args.cadence_ms}"]
    with tempfile.TemporaryDirectory(prefix="jo-bench-dom-") as name, FakeModelProcess() as model:
        tmp = Path(name)
        with run_lab(tmp, model.url, server) as lab:
            (lab.root / "latency.ipynb").write_text(json.dumps(NOTEBOOK))
            added, paces = measure(lab)
    note = f"{len(added)}/{CHUNKS} chunks, {PACE * 1000:.0f} ms apart"
    note += f", server cadence {args.cadence_ms} ms"
    # The view shows streamed text at its pacer's cadence (40 ms, slower when the page's frames
    # are expensive): the slowest stage's interval is the cadence in use.
    in_use = max(args.cadence_ms, statistics.median(paces))
    figures = [
        Figure(BENCH, "WS -> DOM added latency, median", statistics.median(added), "ms", note=note),
        Figure(BENCH, "cadence in use (the view's pacer, median)", in_use, "ms"),
        Figure(
            BENCH,
            "WS -> DOM added latency, p99",
            percentile(added, 0.99),
            "ms",
            2 * in_use,
            note=f"target: 2 intervals of the {in_use:.0f} ms cadence in use",
        ),
        Figure(BENCH, "WS -> DOM added latency, max", max(added), "ms"),
        Figure(BENCH, "WS -> DOM added latency, min", min(added), "ms"),
    ]
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures]))


if __name__ == "__main__":
    main()
