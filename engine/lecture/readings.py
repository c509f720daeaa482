"""Readings over a run: the numbers the judges and the advisor decide on, each read one way.

They only read (the history, the evaluations, the weights) or work on a float64 copy of
the network, so reading never disturbs the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from engine.nn.network import MLP
from engine.thresholds import ROUNDING, WINDOW
from engine.train.records import EvalRecord
from engine.train.trainer import Trainer

Array = np.ndarray
Reading = Callable[[Trainer, str], float]  # recent or first: a history column to one number


def within_rounding(spread: float, dtype: np.dtype) -> str | None:
    """How a spread between units (diagnostics.symmetry) under ROUNDING epsilons of the
    dtype reads: rounding, whose digits are the BLAS kernels' (equal units stay equal to
    the bit on some, a rounding apart on others); None for a spread above it."""
    rounding = ROUNDING * float(np.finfo(dtype).eps)
    return f"identical to {dtype} rounding (under {rounding:.0e})" if spread < rounding else None


def recent(trainer: Trainer, column: str, window: int = WINDOW) -> float:
    """The mean of a history column over the last `window` steps."""
    start = max(1, trainer.steps_done - window + 1)
    series = trainer.history.series(column, max_points=window, start=start)
    return float(np.average(series.mean, weights=series.count))


def first(trainer: Trainer, column: str) -> float:
    """A history column at the first step, exactly however long the run: step 1's stats
    describe the untrained net (its forward ran before the update)."""
    row = trainer.history.first()
    if row is None:
        raise ValueError(f"{column}: the run has taken no step yet")
    return row[column]


def hidden_layers(trainer: Trainer) -> range:
    return range(trainer.n_layers - 1)  # the last layer is the output layer


def shares(counts: Sequence[float], network: MLP) -> list[float]:
    """Per hidden layer, a count of units as a share of the layer's units."""
    return [c / layer.units for c, layer in zip(counts, network.layers[:-1], strict=True)]


def dead_shares(trainer: Trainer, record: EvalRecord) -> list[float]:
    """Per hidden layer, the share of units an evaluation found dead on the training set."""
    return shares(record.dead, trainer.network)


def saturated_shares(trainer: Trainer, read: Reading = recent) -> list[float]:
    """Per hidden layer, the share of units saturated for most samples of a batch."""
    counts = [read(trainer, f"layers.{i}.saturated") for i in hidden_layers(trainer)]
    return shares(counts, trainer.network)


def start_stds(trainer: Trainer) -> list[float]:
    """Per hidden layer, the activation std of the untrained net."""
    return [first(trainer, f"layers.{i}.act_std") for i in hidden_layers(trainer)]


def worst(values: Sequence[float]) -> tuple[int, float]:
    """The hidden layer (1-based) with the largest value, and the value."""
    i = int(np.argmax(values))
    return i + 1, float(values[i])


def ratio(a: float, b: float) -> float:
    """a / b; 1 when both are 0 (neither is smaller), inf when only b is."""
    if b > 0:
        return a / b
    return 1.0 if a == 0 else math.inf


def grad_ratio(trainer: Trainer) -> float:
    """The first layer's recent weight-gradient norm over the last layer's: << 1 when the
    gradient fades on its way back."""
    return ratio(
        recent(trainer, "layers.0.grad_norm_W"),
        recent(trainer, f"layers.{trainer.n_layers - 1}.grad_norm_W"),
    )


def loss_drop(trainer: Trainer) -> float:
    """How far the loss came down, as a share of the first loss (0: not at all)."""
    return 1.0 - ratio(recent(trainer, "loss"), first(trainer, "loss"))


def update_ratio(trainer: Trainer) -> float | None:
    """The median layer's recent update/weight ratio; None when every layer's weights are
    zero (no ratio: zero init says why)."""
    last = trainer.history.last() or {}
    ratios = [
        recent(trainer, f"layers.{i}.update_ratio")
        for i in range(trainer.n_layers)
        if last.get(f"layers.{i}.weight_norm", 0.0) > 0
    ]
    return float(np.median(ratios)) if ratios else None


def depth_factor(stds: Sequence[float]) -> float:
    """The average factor by which activation std changes from one hidden layer to the
    next: 1 holds the signal, 0.7 halves it every two layers, 0.1 loses it."""
    if len(stds) < 2:
        return 1.0
    if stds[0] <= 0 or stds[-1] <= 0:
        return 0.0
    return float((stds[-1] / stds[0]) ** (1.0 / (len(stds) - 1)))


def forward_copy(trainer: Trainer) -> MLP:
    """A float64 copy of the network after a forward pass of the training set: its layers'
    caches describe the whole set, and the live network (and its run) are left alone."""
    network = trainer.network.astype(np.float64)
    with np.errstate(all="ignore"):
        network.forward(trainer.X_train.astype(np.float64))
    return network


def local_gradients(network: MLP) -> list[Array]:
    """Per hidden layer, da/dz for every sample and unit of the last forward: the factor
    backprop multiplies by at each unit (0 where a ReLU is off or a tanh saturated)."""
    return [layer.local_gradient() for layer in network.layers[:-1]]
