"""A long run's speed, with the subnormal flush (engine.nn.subnormals) and without it.

    python benchmarks/long_run_bench.py                 # ~1 minute
    python benchmarks/long_run_bench.py --train 30000 --rounds 9

The default lab net (spiral, 16-16 ReLU, Adam, float32) and a stack of four learning rates
(0.03, 0.01, 0.003, 0.001: the compare view's `lr=` comparison), one BLAS thread. Each is
trained `--train` steps with the flush off, as an engine without it trains, and
checkpointed there. Then, in interleaved rounds from that checkpoint, `--steps` steps
with the flush and the same steps without it (CPU time of this thread; the median of the
rounds' ratios): what the flush buys a long run, timed on the same state. Beside it, the
unflushed late run against the first steps of a fresh one: how much a long run slows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from engine import ExperimentConfig, Trainer  # noqa: E402
from engine.nn import losses, optimizers  # noqa: E402
from engine.train import stacked  # noqa: E402
from engine.train.stacked import StackedTrainer  # noqa: E402

BASE = ExperimentConfig().with_changes(training={"steps": 10**9})
RATES = (0.03, 0.01, 0.003, 0.001)


@contextmanager
def flush_off() -> Iterator[None]:
    """The engine with its flush calls made no-ops."""
    saved = losses.flush_small, optimizers.flush_subnormals, stacked.flush_subnormals
    losses.flush_small = optimizers.flush_subnormals = stacked.flush_subnormals = _nothing
    try:
        yield
    finally:
        losses.flush_small, optimizers.flush_subnormals, stacked.flush_subnormals = saved


def _nothing(_: object) -> None:
    pass


def timed(step: Callable[[], object], steps: int) -> float:
    """Steps a CPU second."""
    start = time.thread_time()
    for _ in range(steps):
        step()
    return steps / (time.thread_time() - start)


class Case:
    """A trainer (one, or a stack) that can be put back at a saved state."""

    def __init__(self, configs: list[ExperimentConfig]) -> None:
        if len(configs) == 1:
            self.members = [Trainer(configs[0])]
            self.step: Callable[[], object] = self.members[0].step
        else:
            stack = StackedTrainer(configs)
            self.members, self.step = stack.members, stack.step

    def save(self) -> list[dict[str, Any]]:
        return [m.checkpoint() for m in self.members]

    def restore(self, saved: list[dict[str, Any]]) -> None:
        for member, arrays in zip(self.members, saved, strict=True):
            member.restore(arrays)


CASES = {
    "default net": [BASE],
    "stack of 4 rates": [BASE.with_changes(optimizer={"lr": lr}) for lr in RATES],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=70_000, help="steps before timing")
    parser.add_argument("--steps", type=int, default=3000, help="steps a timing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    threadpool_limits(1)
    print(f"trained {args.train:,} steps unflushed, then {args.steps:,} steps a timing")
    for name, configs in CASES.items():
        case = Case(configs)
        early = timed(case.step, args.steps)  # a fresh run's first steps, flushed
        with flush_off():
            case.step()
            for _ in range(args.train):
                case.step()
        saved = case.save()
        gains, slowdowns = [], []
        for _ in range(args.rounds):
            case.restore(saved)
            flushed = timed(case.step, args.steps)
            case.restore(saved)
            with flush_off():
                unflushed = timed(case.step, args.steps)
            gains.append(flushed / unflushed)
            slowdowns.append(unflushed / early)
        print(
            f"{name:<17} flushed / unflushed at step {args.train:,}: "
            f"{statistics.median(gains):.2f}x; unflushed there / a fresh run: "
            f"{statistics.median(slowdowns):.2f}"
        )


if __name__ == "__main__":
    main()
