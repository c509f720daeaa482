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

`blas` and `member` are what stacking cannot share, as shares of the members' Trainer steps
(CPU time, measured in the same run): `blas`, the step's BLAS calls as the stacked kernels
make them (np.matmul makes each member's own call, on its own operands, so that its numbers
are its own); `member`, each member's own bookkeeping, which a stacked step does member by
member too (Trainer.store_step: the history row, timeline, distribution samples and the
evaluations' per-member part, here measured with the member evaluating alone, a little
more than in a stack; and each epoch's permutation from the member's own generator).
`floor` is their sum: a ratio cannot go below it. The rest of a stacked step is NumPy's
element-wise passes over the stacked arrays, at the per-element cost the members' own pay
(stacking saves only their per-call overhead), and the per-call overhead of its ~100
NumPy calls.

`marginal` is what one more member costs a stack: a stack of 2M members less a stack of M,
over the M members' runs alone. A stack's ratio is its marginal cost plus its fixed cost
(the ~100 NumPy calls of a step, whatever M) over M: no number of members brings it below
the marginal cost.

What that leaves (06:30 UTC 2026-12-02, a shared 2-core Intel Xeon, OpenBLAS SkylakeX, CPU
time): 2-16-16-3 x 16, ratio 0.32, floor 0.10 (blas 0.035, member 0.062), marginal 0.21:
above the 1/5 target at any stack size. The marginal cost above the floor (0.115) is the
element-wise passes of a member's step (ReLU and its mask, the bias, the softmax, Adam,
the statistics), which cost the same per element stacked or not; 1/5 would need fewer
passes than a member's own step makes, which NumPy cannot fuse. 2-64-64-64-3 x 4, ratio
0.89, floor 0.41, marginal 0.81: the matmuls run at the core's float32 peak as the members'
own calls do, and the element-wise passes are the rest.
"""

from __future__ import annotations

import argparse
import math
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


def blas_calls(stacked: StackedTrainer) -> Callable[[], None]:
    """The BLAS calls of one stacked step (forward, dW, db, dx): the stacked kernels'
    np.matmul calls, on the stacked arrays of its last step. Each makes a member's own
    BLAS call for every member (what its Trainer makes), without NumPy's overhead a call."""
    layers = stacked.network.layers
    grads = [np.ones_like(layer.a) for layer in layers]
    ones = np.ones(grads[0].shape[1], grads[0].dtype)

    def run() -> None:
        for i, layer in enumerate(layers):
            np.matmul(layer.x, layer.W)
            np.matmul(layer.x.transpose(0, 2, 1), grads[i], out=layer.dW)
            np.matmul(ones, grads[i], out=layer.db)
            if i:
                np.matmul(grads[i], layer.W.transpose(0, 2, 1))

    return run


def floor(case: Case, steps: int, rounds: int) -> tuple[float, float]:
    """The median shares of the members' Trainer steps that their BLAS calls (made
    stacked) and their own bookkeeping (store_step, the epochs' permutations) take."""
    configs = case.configs(10**9)
    trainer, other = Trainer(configs[0]), Trainer(configs[0])
    other.step()
    last = other.history.last()
    assert last is not None
    values = np.array(list(last.values()))  # a step's history row, as store_step takes it
    stack = StackedTrainer(configs)
    stack.step()
    blas = blas_calls(stack)
    batches = other.batches
    epochs = math.ceil(steps * batches.size / len(batches.X))

    def member() -> None:
        for _ in range(steps):
            other.steps_done += 1
            other.store_step(values)
        for _ in range(epochs):
            batches.rng.permutation(len(batches.X))

    def matmuls() -> None:
        for _ in range(steps):
            blas()

    blas_shares, member_shares = [], []
    for _ in range(rounds):
        step = timed(partial(trainer.run, steps))[1]
        blas_shares.append(timed(matmuls)[1] / (case.members * step))
        member_shares.append(timed(member)[1] / step)
    return statistics.median(blas_shares), statistics.median(member_shares)


def marginal(case: Case, steps: int, rounds: int) -> float:
    """What one more member costs a stack, as a share of its run alone (CPU time): a stack
    of 2M members less a stack of M, over M sequential runs of M. A stack's fixed cost a
    step is shared, the marginal cost is not, so no number of members brings the ratio
    below it."""
    configs = case.configs(steps)
    doubled = [c.with_changes(training={"seed": 1000 + i}) for i, c in enumerate(configs)]
    shares = []
    for _ in range(rounds):
        one = timed(partial(stacked, configs, steps))[1]
        two = timed(partial(stacked, configs + doubled, steps))[1]
        alone = timed(partial(sequential, configs, steps))[1]
        shares.append((two - one) / alone)
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
        f"{'stacked s':>10}{'ratio':>7}{'cpu ratio':>10}{'blas':>6}{'member':>7}{'floor':>7}"
        f"{'marginal':>9}{'target':>7}  result"
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
        blas, member = floor(case, args.steps, args.rounds)
        extra = marginal(case, args.steps, max(3, args.rounds // 2))
        verdict = "ok" if max(ratio, cpu_ratio) <= case.target else "MISSED"
        print(
            f"{case.name:<14}{case.members:>8}{case.batch:>6}{args.steps:>6}{seq:>13.3f}"
            f"{stk:>10.3f}{ratio:>7.3f}{cpu_ratio:>10.3f}{blas:>6.3f}{member:>7.3f}"
            f"{blas + member:>7.3f}{extra:>9.3f}{case.target:>7.3f}"
            f"  {verdict}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
