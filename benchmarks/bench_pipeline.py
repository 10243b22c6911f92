"""Pipeline overhead: one 5,000-chunk answer read from opencode's SSE and from our WebSocket."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    DirectEvents,
    Figure,
    Server,
    Stream,
    first_delta_session,
    is_final,
    is_text,
    main,
    median,
    ready_worker,
    worker_endpoint,
    write_model_config,
)
from jupyter_opencode.testing import FakeModelProcess

CHUNKS = 5000
PROMPT = f"[[long:{CHUNKS}]]"
PROMPTS = 10
BUDGET = 120.0
BENCH = "pipeline"


@dataclass
class Run:
    """Arrival times of one answer's text on both paths, from the prompt, and the texts."""

    direct: list[float]
    ours: list[float]
    direct_text: str
    ours_text: str

    def same_text(self) -> bool:
        """Whether our WebSocket's text frames, concatenated, carry exactly opencode's deltas."""
        return self.ours_text == self.direct_text

    def total_ratio(self) -> float:
        """Prompt to last text chunk, ours over direct."""
        return self.ours[-1] / self.direct[-1]

    def stream_ratio(self) -> float:
        """First to last text chunk, ours over direct."""
        return (self.ours[-1] - self.ours[0]) / (self.direct[-1] - self.direct[0])

    def first_added_ms(self) -> float:
        """How much later our first text chunk arrived than opencode's own."""
        return (self.ours[0] - self.direct[0]) * 1000


async def one_prompt(stream: Stream, events: DirectEvents, sid: str) -> Run:
    """Prompt once with both paths subscribed; wait for everything to arrive on both."""
    stream.send(type="subscribe", session_id=sid, after_seq=0)
    await asyncio.sleep(0.05)
    start, mark = len(stream.frames), len(events.deltas)
    sent = time.perf_counter()
    stream.send(type="prompt", session_id=sid, text=PROMPT)
    await stream.wait_for(is_final(sid), start, 120.0)
    deadline = time.perf_counter() + 10.0
    while len(first_delta_session(events.deltas[mark:])) < CHUNKS:
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.02)
    ours = [(t - sent, f["delta"]) for t, f in stream.frames[start:] if is_text(sid)(f)]
    direct = first_delta_session(events.deltas[mark:])
    return Run(
        direct=[d.arrived - sent for d in direct],
        ours=[t for t, _ in ours],
        direct_text="".join(d.text for d in direct),
        ours_text="".join(text for _, text in ours),
    )


async def measure(server: Server) -> list[Run]:
    """One warm-up answer, then up to ``PROMPTS`` measured ones within the time budget."""
    stream = await Stream.open(server)
    worker = await ready_worker(server, stream)
    events = await DirectEvents.open(*worker_endpoint(worker["pid"]))
    try:
        await one_prompt(stream, events, "bench-pipeline-warm")
        runs: list[Run] = []
        deadline = time.perf_counter() + BUDGET
        while len(runs) < PROMPTS and time.perf_counter() < deadline:
            runs.append(await one_prompt(stream, events, f"bench-pipeline-{len(runs):03d}"))
        return runs
    finally:
        events.close()
        stream.close()


def figures(runs: list[Run]) -> list[Figure]:
    """The printed figures of the measured answers."""
    n = f"median of {len(runs)} prompts"
    same = sum(r.same_text() for r in runs)
    frames = sorted(len(r.ours) for r in runs)
    return [
        Figure(BENCH, "total time ratio, prompt->last text chunk",
               median([r.total_ratio() for r in runs]), "x", 1.10,
               note=f"WS+persist / opencode SSE, same answer, {n}"),
        Figure(BENCH, "stream time ratio, first->last text chunk",
               median([r.stream_ratio() for r in runs]), "x", note=n),
        Figure(BENCH, "added first-chunk latency", median([r.first_added_ms() for r in runs]),
               "ms", 5.0, note=f"WS first text - SSE first text delta, {n}"),
        Figure(BENCH, "opencode SSE prompt->first delta",
               median([r.direct[0] * 1000 for r in runs]), "ms", note="baseline"),
        Figure(BENCH, "opencode SSE prompt->last delta",
               median([r.direct[-1] * 1000 for r in runs]), "ms", note="baseline"),
        Figure(BENCH, "text deltas received via opencode SSE",
               min(len(r.direct) for r in runs), "", note=f"min over prompts, of {CHUNKS}"),
        Figure(BENCH, "WS text == SSE text", same, f"of {len(runs)}", len(runs), at_least=True,
               note=f"{'yes' if same == len(runs) else 'no'}; {median(frames):,.0f} WS text"
               f" frames (min {frames[0]:,}, max {frames[-1]:,}) for {CHUNKS:,} deltas: a"
               " client behind gets consecutive deltas merged"),
    ]  # fmt: skip


async def bench(tmp: Path) -> list[Figure]:
    """Run the pipeline benchmark against a real server, worker and fake model."""
    with FakeModelProcess() as model:
        config = write_model_config(tmp, model)
        with Server(tmp / "server", config=config, home=tmp / "home") as server:
            runs = await measure(server)
    return figures(runs)


if __name__ == "__main__":
    main(bench)
