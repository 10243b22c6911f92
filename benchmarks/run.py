"""Run every ``bench_*.py`` in its own process and print one summary table."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Figure, print_table

HERE = Path(__file__).resolve().parent
TIMEOUT = 400.0


def run_one(script: Path, out: Path) -> list[Figure]:
    """Run one benchmark file (its own table goes to our stdout); return its figures."""
    print(f"== {script.name}", flush=True)
    try:
        subprocess.run([sys.executable, str(script), "--json", str(out)], check=True,
                       timeout=TIMEOUT)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"{script.name} failed: {e}", flush=True)
        return []
    return [Figure(**item) for item in json.loads(out.read_text())]


def main() -> None:
    """Run the benchmarks, then print all figures together."""
    started = time.perf_counter()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="jo-bench-run-") as tmp:
        for script in sorted(HERE.glob("bench_*.py")):
            figures += run_one(script, Path(tmp) / f"{script.stem}.json")
    print(f"\n== summary ({time.perf_counter() - started:.0f} s)")
    print_table(figures)
    misses = sum(f.verdict == "MISS" for f in figures)
    print(f"\n{misses} of {sum(f.target is not None for f in figures)} targets missed")


if __name__ == "__main__":
    main()
