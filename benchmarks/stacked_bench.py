"""Members trained together (engine.train.stacked) against the same members one after the
other, timed in the same run on one BLAS thread.

    python benchmarks/stacked_bench.py               # ~1 minute on a quiet machine
    python benchmarks/stacked_bench.py --rounds 9 --steps 500

Each case trains M members of one ReLU net (softmax cross-entropy, Adam, float32, the
default spiral data, eval_every 50, the seeds 0..M-1): `sequential` is Trainer(config).run
for each member in turn, `stacked` is StackedTrainer(configs).run; both include building
the trainers. Each round times the two back to back; a round's ratio is stacked /
sequential, and the result is the median over rounds, of the wall times and of the CPU
times of this thread (steadier when neighbours share the cores; with one BLAS thread all
the work is on it). Targets: at most 1/5 for 16 members of 2-16-16-3 batch 64, at most 1/2
for 4 of 2-64-64-64-3 batch 256. Before timing, a case checks that the stacked members end
where the sequential runs end.

`floor` is what stacking cannot share, as a share of a Trainer step (CPU time, measured in
the same run): each member's Trainer.finish_step (its history row, record, timeline,
distribution samples and evaluations), and the step's BLAS calls, which a stacked step
makes once a member (the same calls, so that each member's numbers are its own). A ratio
cannot go below it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from engine import ExperimentConfig, Trainer  # noqa: E402
from engine.train.stacked import StackedTrainer  # noqa: E402


@dataclass(frozen=True)
class Case:
    hidden: tuple[int, ...]
    batch: int
    members: int
    samples: int
    target: float  # stacked / sequential at most this

    @property
    def name(self) -> str:
        return "-".join(map(str, (2, *self.hidden, 3)))

    def configs(self, steps: int) -> list[ExperimentConfig]:
        return [
            ExperimentConfig.from_dict(
                {
                    "data": {"n_samples": self.samples},
                    "model": {"hidden": list(self.hidden)},
                    "optimizer": {"name": "adam"},
                    "training": {"batch_size": self.batch, "steps": steps, "seed": seed},
                }
            )
            for seed in range(self.members)
        ]


CASES = (
    Case((16, 16), 64, 16, 300, 1 / 5),
    Case((64, 64, 64), 256, 4, 1000, 1 / 2),
)


def sequential(configs: list[ExperimentConfig], steps: int) -> list[Trainer]:
    trainers = []
    for config in configs:
        trainer = Trainer(config)
        trainer.run(steps)
        trainers.append(trainer)
    return trainers


def stacked(configs: list[ExperimentConfig], steps: int) -> list[Trainer]:
    trainer = StackedTrainer(configs)
    trainer.run(steps)
    return trainer.members


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (this thread's) of run()."""
    wall, cpu = time.perf_counter(), time.thread_time()
    run()
    return time.perf_counter() - wall, time.thread_time() - cpu


def blas_calls(trainer: Trainer) -> Callable[[], None]:
    """The BLAS calls of one of the trainer's steps (forward, dW, db, dx), on its shapes."""
    net = trainer.network
    X, _ = trainer.batches.next()
    inputs = [X]
    for layer in net.layers:
        inputs.append(layer.forward(inputs[-1]))
    grads = [np.ones_like(a) for a in inputs[1:]]
    ones = np.ones(len(X), X.dtype)

    def run() -> None:
        for i, layer in enumerate(net.layers):
            inputs[i].dot(layer.W)
            np.dot(inputs[i].T, grads[i], out=layer.dW)
            np.dot(ones, grads[i], out=layer.db)
            if i:
                grads[i].dot(layer.W.T)

    return run


def floor(case: Case, steps: int, rounds: int) -> float:
    """The median share of a Trainer step that finish_step and the BLAS calls take."""
    config = case.configs(10**9)[0]
    trainer, other = Trainer(config), Trainer(config)
    record = other.step()
    stats = record.stats.ravel().tolist()
    blas = blas_calls(Trainer(config))

    def finish() -> None:
        for _ in range(steps):
            other.finish_step(record.loss, record.accuracy, record.lr, stats)

    def matmuls() -> None:
        for _ in range(steps):
            blas()

    shares = []
    for _ in range(rounds):
        step = timed(partial(trainer.run, steps))[1]
        shares.append((timed(finish)[1] + timed(matmuls)[1]) / step)
    return statistics.median(shares)


def check(case: Case, steps: int) -> None:
    """The stacked members end where the sequential runs end, bit for bit."""
    configs = case.configs(steps)
    for alone, member in zip(sequential(configs, steps), stacked(configs, steps), strict=True):
        if not np.array_equal(alone.network.theta, member.network.theta):
            raise SystemExit(f"{case.name}: a stacked member differs from its run alone")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    threadpool_limits(1)
    print(f"one BLAS thread; {os.cpu_count()} cores; load average {os.getloadavg()}")
    print(
        f"{'case':<14}{'members':>8}{'batch':>6}{'steps':>6}{'sequential s':>13}"
        f"{'stacked s':>10}{'ratio':>7}{'cpu ratio':>10}{'floor':>7}{'target':>7}  result"
    )
    for case in CASES:
        check(case, 30)
        configs = case.configs(args.steps)
        rounds = [
            (
                timed(partial(sequential, configs, args.steps)),
                timed(partial(stacked, configs, args.steps)),
            )
            for _ in range(args.rounds)
        ]
        seq = statistics.median(s[0] for s, _ in rounds)
        stk = statistics.median(t[0] for _, t in rounds)
        ratio = statistics.median(t[0] / s[0] for s, t in rounds)
        cpu_ratio = statistics.median(t[1] / s[1] for s, t in rounds)
        least = floor(case, args.steps, args.rounds)
        verdict = "ok" if max(ratio, cpu_ratio) <= case.target else "MISSED"
        print(
            f"{case.name:<14}{case.members:>8}{case.batch:>6}{args.steps:>6}{seq:>13.3f}"
            f"{stk:>10.3f}{ratio:>7.3f}{cpu_ratio:>10.3f}{least:>7.3f}{case.target:>7.3f}"
            f"  {verdict}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
