"""Where a page's main-thread time went: a Chromium trace summed by event name (self time)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "blink",
    "cc",
    "toplevel",
]


def self_times(trace: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """Seconds of self time and count per event name on the busiest renderer main thread."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }  # fmt: skip
    by_thread: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and "dur" in e:
            by_thread[(e["pid"], e["tid"])].append(e)
    if not by_thread:
        return {}
    thread = max(by_thread.values(), key=lambda es: sum(e["dur"] for e in es))
    thread.sort(key=lambda e: (e["ts"], -e["dur"]))
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    # A stack of [end, name, child time] for nesting; self time = duration - children.
    stack: list[list[Any]] = []

    def close_until(ts: float) -> None:
        while stack and stack[-1][0] <= ts:
            _, name, children, dur = stack.pop()
            totals[name] += dur - children
            counts[name] += 1
            if stack:
                stack[-1][2] += dur

    for e in thread:
        if e["name"] == "ThreadControllerImpl::RunTask":
            # Whole tasks, by where they were posted from (inclusive time).
            posted = e.get("args", {}).get("task", {}).get("posted_from", {})
            where = f"task from {posted.get('function_name', '?')}"
            totals[where] += e["dur"]
            counts[where] += 1
        close_until(e["ts"])
        stack.append([e["ts"] + e["dur"], e["name"], 0.0, e["dur"]])
    close_until(float("inf"))
    return {name: (us / 1e6, counts[name]) for name, us in totals.items()}


@contextmanager
def traced(browser: Any, page: Any, top: int = 40) -> Iterator[None]:
    """Trace the page while the block runs, then print its top main-thread events."""
    browser.start_tracing(page=page, categories=CATEGORIES)
    try:
        yield
    finally:
        totals = self_times(json.loads(browser.stop_tracing()))
        print(f"main thread self time by event, and whole tasks by origin (top {top}, s):")
        for name, (seconds, count) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"  {seconds:8.3f}  {count:6d}  {name}")
