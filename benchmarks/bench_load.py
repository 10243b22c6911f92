"""Load: 20 sessions streaming at once beside 50 idle subscribers, and memory over many prompts.

Added latency is per text delta: when our WebSocket client got it, minus when opencode's own
event stream carried it, for one session alone and for 20 at once. Both are read in this
process's one event loop, so its own lateness under load counts on both sides alike.
``BENCH_LOAD_PROMPTS`` (default 10,000) prompts then run 20 at a time within
``BENCH_LOAD_SECONDS`` (default 240: about 1,400 prompts here; raise it for all 10,000), and the
server's memory is sampled as they go.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from harness import (
    Delta,
    Figure,
    LoopEvents,
    Relay,
    Server,
    Stream,
    cpu_seconds,
    is_final,
    is_text,
    main,
    ready_worker,
    rss_mb,
    worker_endpoint,
    write_model_config,
)
from jupyter_opencode.testing import FakeModelProcess, expected_text

BENCH = "load"
STREAMING = 20
IDLE = 50
CHUNKS = 300
PROMPTS = int(os.environ.get("BENCH_LOAD_PROMPTS", "10000"))
MEMORY_BUDGET = float(os.environ.get("BENCH_LOAD_SECONDS", "240"))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def _ratio(values: list[float], baseline: list[float]) -> float:
    """p99 of ``values`` over p99 of ``baseline``."""
    return _percentile(values, 0.99) / max(_percentile(baseline, 0.99), 0.001)


def _added_ms(ours: list[tuple[float, str]], direct: list[Delta]) -> list[float]:
    """Per opencode delta: ms until our client had received the text up to its end."""
    added, cursor, have = [], 0, 0
    length = 0
    for delta in direct:
        length += len(delta.text)
        while have < length and cursor < len(ours):
            have += len(ours[cursor][1])
            cursor += 1
        if have >= length:
            added.append((ours[cursor - 1][0] - delta.arrived) * 1000)
    return added


async def _stream_answers(
    streams: list[Stream],
    sids: list[str],
    events: LoopEvents,
    relay: Relay,
    base: int,
    pace: str = "",
) -> tuple[list[float], int, list[float]]:
    """Answer one prompt per session at once: added latencies, how many exact, the relay's.

    Without ``pace`` the model streams as fast as it can (a burst); with ``pace`` ("0.01")
    each session gets a token every ``pace`` seconds, like a fast real model.
    """
    counts = [base + i for i in range(len(sids))]
    directive = [f"[[slow:{count}:{pace}]]" if pace else f"[[long:{count}]]" for count in counts]
    marks = [len(s.frames) for s in streams]
    first, relayed = len(events.deltas), len(relay.deltas)
    for stream, sid, prompt in zip(streams, sids, directive, strict=True):
        stream.send(type="prompt", session_id=sid, text=f"{prompt} {sid}")
    await asyncio.gather(
        *(
            s.wait_for(is_final(sid), m, 300.0)
            for s, sid, m in zip(streams, sids, marks, strict=True)
        )
    )
    await asyncio.sleep(
        0.5
    )  # opencode may write our server's copy of an event first: let ours land
    by_session: dict[str, list[Delta]] = {}
    for delta in events.deltas[first:]:
        by_session.setdefault(delta.session, []).append(delta)
    by_length = {sum(len(d.text) for d in ds): ds for ds in by_session.values()}
    floor: list[float] = []
    for session, direct in by_session.items():
        copies = [d for d in relay.deltas[relayed:] if d.session == session]
        if [d.text for d in copies] == [d.text for d in direct]:
            floor += [(c.arrived - d.arrived) * 1000 for c, d in zip(copies, direct, strict=True)]
    added: list[float] = []
    exact = 0
    for stream, sid, mark, prompt in zip(streams, sids, marks, directive, strict=True):
        ours = [(t, f["delta"]) for t, f in stream.frames[mark:] if is_text(sid)(f)]
        text = "".join(piece for _, piece in ours)
        exact += text == expected_text(prompt)
        direct = by_length.get(len(text), [])
        added += _added_ms(ours, direct)
    return added, exact, floor


async def _many_prompts(server: Server, stream: Stream) -> tuple[int, float, float, float]:
    """Up to PROMPTS short prompts, 20 at a time: (done, RSS after 10 %, RSS at end, seconds)."""
    assert server.proc is not None
    sids = [f"bench-mem-{i:02d}" for i in range(STREAMING)]
    for sid in sids:
        stream.send(type="subscribe", session_id=sid, after_seq=0)
    done, early, started = 0, 0.0, time.perf_counter()
    while done < PROMPTS and time.perf_counter() - started < MEMORY_BUDGET:
        mark = len(stream.frames)
        for sid in sids:
            stream.send(type="prompt", session_id=sid, text=f"prompt {done}")
        await asyncio.gather(*(stream.wait_for(is_final(sid), mark, 120.0) for sid in sids))
        done += len(sids)
        stream.frames.clear()  # the client's own memory is not what is measured
        if not early and done >= min(PROMPTS, 1000) // 10:
            early = rss_mb(server.proc.pid)
    return done, early, rss_mb(server.proc.pid), time.perf_counter() - started


async def bench(tmp: Path) -> list[Figure]:
    """Run the load benchmark against a real server, worker and fake model."""
    with FakeModelProcess() as model:
        config = write_model_config(tmp, model)
        with Server(tmp / "server", config=config, home=tmp / "home") as server:
            idle = [await Stream.open(server) for _ in range(IDLE)]
            for index, client in enumerate(idle):
                client.send(type="subscribe", session_id=f"bench-idle-{index:03d}", after_seq=0)
            streams = [await Stream.open(server) for _ in range(STREAMING)]
            worker = await ready_worker(server, streams[0])
            events = await LoopEvents.open(*worker_endpoint(worker["pid"]))
            relay = await Relay.open(*worker_endpoint(worker["pid"]))
            sids = [f"bench-load-{i:03d}" for i in range(STREAMING)]
            for stream, sid in zip(streams, sids, strict=True):
                stream.send(type="subscribe", session_id=sid, after_seq=0)
            await _stream_answers(streams[:1], sids[:1], events, relay, CHUNKS)  # warm-up
            single, _, relay_one = await _stream_answers(
                streams[:1], sids[:1], events, relay, CHUNKS
            )
            many, exact, relay_many = await _stream_answers(streams, sids, events, relay, CHUNKS)
            paced_one, _, relay_paced_one = await _stream_answers(
                streams[:1], sids[:1], events, relay, 200, "0.01"
            )
            assert server.proc is not None
            pids = {"our server": server.proc.pid, "opencode": worker["pid"]}
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            started = time.perf_counter()
            paced, paced_exact, relay_paced = await _stream_answers(
                streams, sids, events, relay, 200, "0.01"
            )
            wall = time.perf_counter() - started
            busy = {name: (cpu_seconds(pid) - cpu[name]) / wall for name, pid in pids.items()}
            quiet = sum(len(c.frames) == 1 for c in idle)
            done, early, late, seconds = await _many_prompts(server, streams[0])
            events.close()
            relay.close()
            for client in [*idle, *streams]:
                client.close()
    single99, many99 = _percentile(single, 0.99), _percentile(many, 0.99)
    return [
        Figure(BENCH, "added latency p50, one session", _percentile(single, 0.5), "ms"),
        Figure(BENCH, "added latency p99, one session", single99, "ms",
               note=f"{len(single)} deltas matched; paced {len(paced_one)}"),
        Figure(BENCH, f"added latency p50, {STREAMING} at once", _percentile(many, 0.5), "ms"),
        Figure(BENCH, f"added latency p99, {STREAMING} at once", many99, "ms",
               note=f"beside {IDLE} idle subscribers; {len(many)} deltas, paced {len(paced)}"),
        Figure(BENCH, "p99 ratio, 20 at once / one", _ratio(many, single), "x", 2.0,
               note="burst: the model sends every token at once"),
        Figure(BENCH, "paced: added latency p50 / p99, one session",
               _percentile(paced_one, 0.5), "ms",
               note=f"p99 {_percentile(paced_one, 0.99):.1f} ms"),
        Figure(BENCH, f"paced: added latency p50 / p99, {STREAMING} at once",
               _percentile(paced, 0.5), "ms", note=f"p99 {_percentile(paced, 0.99):.1f} ms"),
        Figure(BENCH, "paced: p99 ratio, 20 at once / one",
               _ratio(paced, paced_one), "x", 2.0,
               note="100 tokens/s per session, like a fast real model"),
        Figure(BENCH, "floor: a bare relay's p99, one / 20 at once, burst",
               _percentile(relay_one, 0.99), "ms",
               note=f"{_percentile(relay_many, 0.99):.1f} ms: "
                    f"{_ratio(relay_many, relay_one):.1f} x on this machine"),
        Figure(BENCH, "floor: a bare relay's p99, one / 20 at once, paced",
               _percentile(relay_paced_one, 0.99), "ms",
               note=f"{_percentile(relay_paced, 0.99):.1f} ms: "
                    f"{_ratio(relay_paced, relay_paced_one):.1f} x on this machine"),
        Figure(BENCH, "burst: p99 of 20 at once, ours / bare relay's", _ratio(many, relay_many),
               "x", note="what our pipeline adds beyond the machine's floor"),
        Figure(BENCH, "paced: p99 of 20 at once, ours / bare relay's",
               _ratio(paced, relay_paced), "x"),
        Figure(BENCH, "paced, 20 at once: CPU share of our server", 100 * busy["our server"], "%",
               note=f"opencode {100 * busy['opencode']:.0f} % of one core; "
                    f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"),
        Figure(BENCH, "sessions with exactly their own text", exact + paced_exact,
               f"of {2 * STREAMING}", 2 * STREAMING, at_least=True),
        Figure(BENCH, "idle subscribers that got nothing", quiet, f"of {IDLE}", IDLE,
               at_least=True),
        Figure(BENCH, "prompts answered", done, "",
               note=f"in {seconds:.0f} s, {STREAMING} at a time"),
        Figure(BENCH, "server RSS growth after the first 10 %", late - early, "MB",
               note=f"{early:.0f} MB -> {late:.0f} MB"),
    ]  # fmt: skip


if __name__ == "__main__":
    main(bench)
