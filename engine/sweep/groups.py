"""Groups of members, their plan, and the one function that trains a group.

A group is a list of members that can stack (engine.train.stacked.group_members: the same
data, widths, activation, loss, optimizer rule, batch size and dtype) and share a step
budget; `train_group` trains it as one StackedTrainer, whose members equal single runs.
`plan_groups` hands the longest groups out first, by the seconds a step `step_seconds`
measured.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence

from engine.config import ExperimentConfig
from engine.train.records import Diverged
from engine.train.stacked import StackedTrainer, group_members
from engine.train.trainer import Trainer

# A trained member: its Trainer and the seconds it trained.
Trained = tuple[Trainer, float]
TIMED_STEPS = 5  # steps step_seconds times: a few milliseconds a kind of member


def train_group(
    configs: Sequence[ExperimentConfig], stop: threading.Event | None = None
) -> list[Trained]:
    """Train a group's members to their training.steps (or until `stop`) as one stack;
    each member's seconds are the group's: they trained at once."""
    stacked = StackedTrainer(configs)
    start = time.perf_counter()
    stacked.run(configs[0].training.steps, stop)
    seconds = time.perf_counter() - start
    return [(member, seconds) for member in stacked.members]


def finished(trainer: Trainer) -> bool:
    """Done or diverged (a stopped member is neither: it is trained again on resume)."""
    return trainer.diverged is not None or trainer.steps_done >= trainer.config.training.steps


def step_seconds(trainer: Trainer, steps: int = TIMED_STEPS) -> float:
    """The CPU seconds a step of `trainer` takes, over its next few steps: the planner's
    cost of a member of its kind. CPU time, so another process on the core does not
    count; a member that diverges at once costs next to nothing, as it does in a sweep."""
    try:
        trainer.step()  # not timed: the first step allocates its buffers
        start = time.thread_time()
        for _ in range(min(steps, trainer.config.training.steps - 1)):
            trainer.step()
    except Diverged:
        return 0.0
    return (time.thread_time() - start) / max(trainer.steps_done - 1, 1)


def plan_groups(
    configs: Sequence[ExperimentConfig], slots: int, costs: Sequence[float] | None = None
) -> list[list[int]]:
    """group_members by step budget, with big groups cut so that `slots` workers all have
    work: no group holds more than its share, ceil(members / slots). The longest groups
    come first (each member costs its steps times costs[i], its seconds a step, or 1):
    handed out in this order, no worker is left with a long group while the others idle."""
    share = max(1, math.ceil(len(configs) / max(slots, 1)))
    planned = []
    for stackable in group_members(configs):
        budgets: dict[int, list[int]] = {}  # a stack steps all its members alike
        for i in stackable:
            budgets.setdefault(configs[i].training.steps, []).append(i)
        for group in budgets.values():
            planned += [group[i : i + share] for i in range(0, len(group), share)]

    def cost(group: list[int]) -> float:
        return sum(configs[i].training.steps * (costs[i] if costs else 1.0) for i in group)

    return sorted(planned, key=cost, reverse=True)  # stable: equal costs keep their order
