"""What training reports: a record a step, an evaluation, a run's result, a divergence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.train.diagnostics import LAYER_STATS, LayerStats

Array = np.ndarray

STEP_COLUMNS = ("loss", "accuracy", "lr")
EVAL_COLUMNS = ("step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


def history_columns(n_layers: int) -> tuple[str, ...]:
    """A step's row in the history: STEP_COLUMNS, then layers.{i}.{stat} for LAYER_STATS."""
    return STEP_COLUMNS + tuple(f"layers.{i}.{s}" for i in range(n_layers) for s in LAYER_STATS)


class Diverged(ArithmeticError):
    """Training produced a non-finite loss or parameter."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"diverged at step {step}: {what}")
        self.step = step
        self.what = what


@dataclass(frozen=True)
class StepRecord:
    step: int  # steps done, this one included
    epoch: float  # passes over the training set so far
    loss: float
    accuracy: float  # on the batch; NaN for regression
    lr: float
    stats: Array  # (layers, LAYER_STATS)

    @property
    def layers(self) -> list[LayerStats]:
        return [LayerStats(*row) for row in self.stats.tolist()]


@dataclass(frozen=True)
class EvalRecord:
    step: int
    train_loss: float
    train_accuracy: float  # NaN for regression
    val_loss: float
    val_accuracy: float
    # Per hidden layer: units zero for every sample of the training set. The one count of
    # dead units (the activation's dead_units predicate over a forward of the whole set).
    dead: list[int]


@dataclass(frozen=True)
class RunResult:
    steps: int
    diverged: Diverged | None = None
    stopped: bool = False
