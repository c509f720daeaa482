"""What the lecture talks about, measured: per-layer stats each step, and on-demand views.

The per-step stats are on the training hot path, so they use only cheap reductions:
vdot or one reduceat for squared norms, one product with ones for the mean, and one
centred vdot for the std (np.std costs more calls for the same two passes).

Dead units are not a per-step stat: a unit is dead when it is zero for every sample of
the training set, which the Trainer's evaluations count (EvalRecord.dead, from
dead_units below after a forward of the whole training set).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from engine.config import ModelConfig
from engine.nn.layers import ones
from engine.nn.network import MLP
from engine.train.build import build_network

Array = np.ndarray

LAYER_STATS = (
    "grad_norm_W",
    "grad_norm_b",
    "weight_norm",
    "update_ratio",
    "saturated",  # units saturated for most samples of the batch
    "act_mean",
    "act_std",
)


@dataclass(frozen=True)
class LayerStats:
    grad_norm_W: float
    grad_norm_b: float
    weight_norm: float
    update_ratio: float
    saturated: float
    act_mean: float
    act_std: float


def step_stats(network: MLP, delta: Array) -> list[float]:
    """Every layer's LAYER_STATS, layer after layer, after the optimizer's update `delta`
    (flat, like network.theta)."""
    starts = network.segment_starts
    g2 = _squared_norms(network.grad, starts)
    w2 = _squared_norms(network.theta, starts)
    d2 = _squared_norms(delta, starts)
    last = len(network.layers) - 1
    row: list[float] = []
    for i, layer in enumerate(network.layers):
        weight_norm = math.sqrt(w2[2 * i])
        a = layer.a
        saturated = layer.activation.saturated_units
        mean, std = mean_std(a)
        row += [
            math.sqrt(g2[2 * i]),
            math.sqrt(g2[2 * i + 1]),
            weight_norm,
            math.sqrt(d2[2 * i]) / weight_norm if weight_norm > 0 else 0.0,
            saturated(a) if saturated and i < last else 0,
            mean,
            std,
        ]
    return row


def mean_std(a: Array) -> tuple[float, float]:
    """Mean and std of all of a, as np.mean and np.std of a in float64 give them (within
    1e-4 relative in float32). Two passes: the one-pass E[a^2] - E[a]^2 cancels when the std
    is small beside the mean (sigmoid at a tiny init: 0.5 +- 1e-4 read as std 0 in float32)."""
    n = a.size
    # Per-unit sums as ones @ a: a BLAS call, cheaper than an axis reduction on small
    # batches; their sum in Python floats.
    mean = sum(ones(a.shape[0], a.dtype).dot(a).tolist()) / n
    centred = a - mean  # a Python float keeps a's dtype
    return mean, math.sqrt(float(np.vdot(centred, centred)) / n)


_VDOT_FROM = 1 << 16  # elements: from here a vdot per segment beats square + reduceat


def _squared_norms(x: Array, starts: Array) -> list[float]:
    """The squared norm of each W and b segment of a flat vector (segments begin at
    `starts`). Small vectors: one square and one reduceat, two calls in all. Large: a vdot
    per segment, which reads x once and makes no temporary the size of the network."""
    if x.size < _VDOT_FROM:
        return np.add.reduceat(np.square(x), starts).tolist()
    bounds = [*starts.tolist(), x.size]
    return [float(np.vdot(x[s:e], x[s:e])) for s, e in pairwise(bounds)]


def dead_units(network: MLP) -> list[int]:
    """Per hidden layer: units that were zero for every sample of the last forward."""
    return [_count(layer.activation.dead_units, layer.a) for layer in network.layers[:-1]]


def saturated_units(network: MLP) -> list[int]:
    """Per hidden layer: units saturated for most samples of the last forward."""
    return [_count(layer.activation.saturated_units, layer.a) for layer in network.layers[:-1]]


def _count(counter: Callable[[Array], int] | None, a: Array) -> int:
    return counter(a) if counter else 0


def symmetry(network: MLP) -> list[float]:
    """Per hidden layer: the largest distance between two units' incoming weight vectors,
    relative to the largest weight-vector norm. Zero means every unit is the same unit."""
    spreads = []
    for layer in network.layers[:-1]:
        W = layer.W.reshape(layer.W.shape[0], layer.units, -1).astype(np.float64)
        vectors = W.transpose(1, 0, 2).reshape(layer.units, -1)
        spread = float(np.max(np.abs(vectors - vectors[0])))
        scale = float(np.max(np.abs(vectors))) or 1.0
        spreads.append(spread / scale)
    return spreads


def chance_loss(n_classes: int) -> float:
    """The loss of a softmax that knows nothing: ln C."""
    return math.log(n_classes)


@dataclass(frozen=True)
class LayerProfile:
    mean: float
    std: float
    counts: Array  # histogram counts
    edges: Array


def activation_profile(network: MLP, X: Array, bins: int = 30) -> list[LayerProfile]:
    """Forward X once and describe every hidden layer's activations."""
    network.forward(X)
    profiles = []
    for a in network.hidden_activations:
        values = a.astype(np.float64).ravel()
        lo, hi = float(values.min()), float(values.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 1.0, hi + 1.0
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
        profiles.append(LayerProfile(float(values.mean()), float(values.std()), counts, edges))
    return profiles


def depth_profile(
    model: ModelConfig,
    rng: np.random.Generator,
    n_in: int = 500,
    n_samples: int = 1000,
    bins: int = 30,
) -> list[LayerProfile]:
    """CS231n's experiment: unit-Gaussian input through a freshly initialized net."""
    network = build_network(model, n_in, 1, rng, np.float64)
    X = rng.standard_normal((n_samples, n_in))
    return activation_profile(network, X, bins)
