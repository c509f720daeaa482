"""Where Trainer.step()'s microseconds go: cProfile on a benchmark case, by own time.

    python benchmarks/profile_step.py                       # 2-16-16-3, batch 64
    python benchmarks/profile_step.py --case 2-64-64-64-3 --steps 5000 --sort cumulative

The trainer is engine_bench's (random data, Adam, float32, eval_every=0). cProfile adds a
fixed cost per Python call, so small functions look dearer than they are: the plain
time per step printed first is the real one.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.engine_bench import CASES, make_trainer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default=CASES[0].name, help="a case name from engine_bench")
    parser.add_argument("--steps", type=int, default=20000, help="steps to profile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--top", type=int, default=25, help="rows to print")
    args = parser.parse_args(argv)
    case = next((c for c in CASES if c.name == args.case), None)
    if case is None:
        print(f"no such case; cases: {', '.join(c.name for c in CASES)}")
        return 2

    trainer = make_trainer(case)
    step = trainer.step
    for _ in range(500):  # warm-up: optimizer state, first shuffles
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    plain = (time.perf_counter() - start) / args.steps
    print(f"{case.name}, batch {case.batch}: {plain * 1e6:.1f} µs a step without the profiler")

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.steps):
        step()
    profiler.disable()
    profiled = (time.perf_counter() - start) / args.steps
    print(f"{profiled * 1e6:.1f} µs a step under cProfile; {args.steps} steps, by {args.sort}:\n")
    stats = pstats.Stats(profiler)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
