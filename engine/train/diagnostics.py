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
from engine.nn.layers import Layer, ones
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
    1e-4 relative in float32). The values are shifted by one of them, a's first: near it,
    differences of floats are exact, so a layer whose units all agree (a constant or zero
    init) reads std 0 exactly, and a std small beside the mean (sigmoid at a tiny init:
    0.5 +- 1e-4) does not cancel, as the one-pass E[a^2] - E[a]^2 of the values would."""
    n = a.size
    shift = a.flat[0]
    centred = a - shift  # a NumPy scalar of a's dtype: centred keeps it
    # Per-unit sums as ones @ centred: a BLAS call, cheaper than an axis reduction on small
    # batches; their sum in Python floats.
    mean = sum(ones(a.shape[0], a.dtype).dot(centred).tolist()) / n
    variance = float(np.vdot(centred, centred)) / n - mean * mean
    return float(shift) + mean, math.sqrt(max(variance, 0.0))


VDOT_FROM = 1 << 16  # elements: from here a vdot per segment beats square + reduceat


def _squared_norms(x: Array, starts: Array) -> list[float]:
    """The squared norm of each W and b segment of a flat vector (segments begin at
    `starts`). Small vectors: one square and one reduceat, two calls in all. Large: a vdot
    per segment, which reads x once and makes no temporary the size of the network."""
    if x.size < VDOT_FROM:
        return np.add.reduceat(np.square(x), starts).tolist()
    bounds = [*starts.tolist(), x.size]
    return [float(np.vdot(x[s:e], x[s:e])) for s, e in pairwise(bounds)]


def dead_units(network: MLP) -> list[int]:
    """Per hidden layer: units that were zero for every sample of the last forward."""
    return [count_units(layer.activation.dead_units, layer.a) for layer in network.layers[:-1]]


def saturated_units(network: MLP) -> list[int]:
    """Per hidden layer: units saturated for most samples of the last forward."""
    return [count_units(layer.activation.saturated_units, layer.a) for layer in network.layers[:-1]]


def count_units(counter: Callable[[Array], int] | None, a: Array) -> int:
    """Units of the outputs `a` (samples x units) that `counter` counts; 0 without one."""
    return counter(a) if counter else 0


# The old private names, until engine/train/stacked.py imports the public ones.
_VDOT_FROM, _count = VDOT_FROM, count_units


def symmetry(network: MLP) -> list[float]:
    """Per hidden layer: the largest distance between two units' incoming weight vectors,
    relative to the largest weight-vector norm. Zero means every unit is the same unit."""
    spreads = []
    for layer in network.layers[:-1]:
        vectors = incoming_vectors(layer)
        spread = float(np.max(np.abs(vectors - vectors[0])))
        scale = float(np.max(np.abs(vectors))) or 1.0
        spreads.append(spread / scale)
    return spreads


def incoming_vectors(layer: Layer) -> Array:
    """(units, fan_in * pieces): each unit's incoming weights as one float64 row (a maxout
    unit's k pieces side by side)."""
    W = layer.W.reshape(layer.W.shape[0], layer.units, -1).astype(np.float64)
    return W.transpose(1, 0, 2).reshape(layer.units, -1)


def _unit_rows(vectors: Array) -> tuple[Array, Array]:
    """The rows scaled to length 1, and which rows are zero (left at zero)."""
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    zero = norms == 0
    return vectors / np.where(zero, 1.0, norms)[:, None], zero


def unit_similarity(W: Array) -> Array:
    """(units, units): the cosine of every two units' incoming weight vectors, for a
    layer's W of shape (fan_in, units) or maxout's (fan_in, units, k). Two zero vectors
    count as the same unit (1), a zero and a non-zero one as unrelated (0), so zero init
    reads as what it is: every unit the same unit. O(units^2) memory: for the small
    layers a heat matrix shows; mean_similarity reads any width."""
    W = np.asarray(W, dtype=np.float64)
    vectors = W.reshape(W.shape[0], W.shape[1], -1).transpose(1, 0, 2).reshape(W.shape[1], -1)
    rows, zero = _unit_rows(vectors)
    S = rows @ rows.T
    S[np.ix_(zero, zero)] = 1.0
    return np.clip(S, -1.0, 1.0, out=S)


def mean_off_diagonal(S: Array) -> float:
    """The mean of S off its diagonal: how alike the units are on average (1.0: all the
    same unit; near 0: unrelated directions). NaN for a single unit."""
    n = S.shape[0]
    if n < 2:
        return math.nan
    return float((S.sum() - np.trace(S)) / (n * (n - 1)))


_CHUNK = 1 << 20  # weights read at a time in float64 (8 MB): any width, bounded memory


def mean_similarity(network: MLP) -> list[float]:
    """Per hidden layer: mean_off_diagonal(unit_similarity(W)) in O(units x fan_in) time
    and bounded memory, without the (units, units) matrix: the off-diagonal sum of the
    cosines of unit rows u_i is |sum u_i|^2 - (non-zero rows), plus the zero rows' pairs,
    each 1. Read a chunk of units at a time."""
    means = []
    for layer in network.layers[:-1]:
        n = layer.units
        if n < 2:
            means.append(math.nan)
            continue
        W = layer.W.reshape(layer.W.shape[0], n, -1)  # (fan_in, units, pieces)
        step = max(1, _CHUNK // (W.shape[0] * W.shape[2]))
        total = np.zeros(W.shape[0] * W.shape[2])
        z = 0
        for start in range(0, n, step):
            chunk = W[:, start : start + step].astype(np.float64).transpose(1, 0, 2)
            rows, zero = _unit_rows(chunk.reshape(chunk.shape[0], -1))
            total += rows.sum(axis=0)
            z += int(np.count_nonzero(zero))
        off = float(total @ total) - (n - z) + z * (z - 1)
        means.append(off / (n * (n - 1)))
    return means


def unit_maps(network: MLP, inputs: Array, shape: tuple[int, int]) -> list[Array]:
    """Per hidden layer, every unit's activation over a grid: `inputs` are the grid's
    points as the network takes them (rows, in the grid's order), `shape` the grid's
    (height, width); returns (height, width, units) arrays, from one batched forward.
    The forward rebinds the network's caches: give it a copy of a live network. The maps
    are views of the forward's own outputs, which a later forward replaces, never writes."""
    with np.errstate(all="ignore"):
        network.forward(inputs)
    return [a.reshape(*shape, a.shape[1]) for a in network.hidden_activations]


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
