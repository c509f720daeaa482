"""Distributions over time: each layer's activations and gradients as histograms, one
column a stretch of steps, in constant memory for any run length (TensorBoard's
distributions, as heat strips).

A sample (every SAMPLE_EVERY steps, never on each step) counts the values of the batch's
activations and of the weight and bias gradients into fixed bins (at most MAX_VALUES of
each layer's, so its cost does not grow with the network). The bins of a kind are
the same for every layer, so strips of different layers share one value axis: vanishing
(everything in the bin at 0) and saturation (everything at +-1) read at a glance.

Columns are uniform: each holds `stride` samples. When the store is full, neighbouring
columns are merged pairwise (their counts summed) and the stride doubles, so memory stays
COLUMNS columns a layer while the strip keeps covering the whole run, as History does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.nn.network import MLP

Array = np.ndarray

SAMPLE_EVERY = 100  # steps between samples: one costs about a step of the smallest net (1%)
COLUMNS = 256  # columns kept a layer (even: they merge pairwise)


# Activations: linear bins of 0.2 on [-3.1, 3.1], one centred on 0 and one on each of +-1
# (tanh's and sigmoid's saturation).
ACT_LIMIT, ACT_WIDTH = 3.1, 0.2
ACT_BINS = 31
# Gradients: a signed log axis, GRAD_PER_DECADE bins a decade for |g| from 10^GRAD_LOW to
# 10^GRAD_HIGH on each side, and one bin for |g| < 10^GRAD_LOW (vanished: read as 0).
GRAD_LOW, GRAD_HIGH, GRAD_PER_DECADE = -7, 1, 2
GRAD_SIDE = (GRAD_HIGH - GRAD_LOW) * GRAD_PER_DECADE  # bins on each side
# A layer's values counted at most: a fixed spread-out subset of a larger array, so a
# sample of a big network costs what one of a small network does; a thousand values a
# sample, summed over the samples of a column, give the strip's shades.
MAX_VALUES = 1024

KINDS = ("activations", "gradients")
EDGES: dict[str, Array] = {
    "activations": np.linspace(-ACT_LIMIT, ACT_LIMIT, ACT_BINS + 1),
    "gradients": np.concatenate(
        [
            -np.logspace(GRAD_HIGH, GRAD_LOW, GRAD_SIDE + 1),
            np.logspace(GRAD_LOW, GRAD_HIGH, GRAD_SIDE + 1),
        ]
    ),
}


def _activation_bins(v: Array) -> Array:
    """Bin indices on EDGES["activations"]; values beyond the ends in the end bins."""
    t = (v - v.dtype.type(-ACT_LIMIT)) * v.dtype.type(1 / ACT_WIDTH)
    np.clip(t, 0, ACT_BINS - 1, out=t)
    return t.astype(np.intp)


def _gradient_bins(v: Array) -> Array:
    """Bin indices on EDGES["gradients"]: the centre bin for |g| < 10^GRAD_LOW (and 0),
    then GRAD_PER_DECADE bins a decade outwards; beyond 10^GRAD_HIGH in the end bins.
    Arithmetic on the log, not a searchsorted: that costs more, and grows faster than
    the values do."""
    with np.errstate(divide="ignore"):  # log10(0) = -inf: the centre bin
        t = np.log10(np.abs(v))
    t *= GRAD_PER_DECADE
    t += 1 - GRAD_LOW * GRAD_PER_DECADE
    np.clip(t, 0, GRAD_SIDE, out=t)
    steps = t.astype(np.intp)  # 0: the centre; k: the k-th bin outwards
    return np.where(v < 0, GRAD_SIDE - steps, GRAD_SIDE + steps)


BINNERS = {"activations": _activation_bins, "gradients": _gradient_bins}


@dataclass(frozen=True)
class Strip:
    """One layer's distribution over time: column j covers steps around steps[j];
    density[:, j] sums to 1 over the bins between bin_edges."""

    steps: Array  # (columns,) float64, the centre step of each column
    bin_edges: Array  # (bins + 1,)
    density: Array  # (bins, columns)


def histograms(kind: str, arrays: Sequence[Array]) -> Array:
    """(layers, bins) counts of each array's values (at most MAX_VALUES of each) in the
    bins of `kind`: one pass of whole-array operations for all the layers."""
    bins = len(EDGES[kind]) - 1
    picked = [_spread(np.ravel(a)) for a in arrays]
    index = BINNERS[kind](np.concatenate(picked))
    index += _offsets(tuple(len(p) for p in picked), bins)
    return np.bincount(index, minlength=len(picked) * bins).reshape(len(picked), bins)


_OFFSETS: dict[tuple[tuple[int, ...], int], Array] = {}
_PICKS: dict[int, Array] = {}


def _offsets(sizes: tuple[int, ...], bins: int) -> Array:
    """Layer i's values count in bins i * bins onwards (cached: a run's sizes repeat)."""
    key = (sizes, bins)
    if key not in _OFFSETS:
        _OFFSETS[key] = np.repeat(np.arange(len(sizes)) * bins, sizes)
    return _OFFSETS[key]


def _spread(values: Array) -> Array:
    """At most MAX_VALUES of values: a fixed subset spread over the whole array (drawn
    once per size from a generator of its own, so training's randomness is untouched;
    not a stride, which could fall on the same columns of a matrix every time)."""
    n = len(values)
    if n <= MAX_VALUES:
        return values
    if n not in _PICKS:
        _PICKS[n] = np.sort(np.random.default_rng(n).choice(n, MAX_VALUES, replace=False))
    return values[_PICKS[n]]


class DistributionStore:
    """Histograms of each layer's activations and gradients, COLUMNS columns a layer."""

    def __init__(self, n_layers: int, columns: int = COLUMNS) -> None:
        if columns < 2 or columns % 2:
            raise ValueError(f"columns must be even and at least 2, got {columns}")
        self.n_layers = n_layers
        self.columns = columns
        self.stride = 1  # samples a column
        self.n = 0  # full columns
        self.first = np.zeros(columns, np.int64)  # first and last sampled step of a column
        self.last = np.zeros(columns, np.int64)
        self.counts = {kind: np.zeros((n_layers, columns, len(EDGES[kind]) - 1)) for kind in KINDS}
        # The column being filled: samples so far, its first step, its counts.
        self.pending = 0
        self.pending_first = self.pending_last = 0
        self.pending_counts = {kind: np.zeros((n_layers, len(EDGES[kind]) - 1)) for kind in KINDS}

    @property
    def nbytes(self) -> int:
        arrays = [self.first, self.last, *self.counts.values(), *self.pending_counts.values()]
        return sum(a.nbytes for a in arrays)

    @staticmethod
    def max_nbytes(n_layers: int, columns: int = COLUMNS) -> int:
        """What a store of these sizes holds (its nbytes, fixed from the start): first and
        last steps a column, and each kind's counts a layer, a column and the pending one."""
        bins = sum(len(EDGES[kind]) - 1 for kind in KINDS)
        return 2 * columns * 8 + n_layers * (columns + 1) * bins * 8

    def sample(self, network: MLP, step: int) -> None:
        """Count the last step's activations (the batch's) and gradients of every layer."""
        activations = [layer.a for layer in network.layers]
        # Layer i's weight and bias gradients: one flat view of network.grad.
        bounds = [*network.segment_starts.tolist()[::2], network.grad.size]
        gradients = [network.grad[bounds[i] : bounds[i + 1]] for i in range(self.n_layers)]
        self.add(step, {"activations": activations, "gradients": gradients})

    def add(self, step: int, values: Mapping[str, Sequence[Array]]) -> None:
        """One sample at `step`: for each kind, one array of values a layer."""
        if self.pending == 0:
            self.pending_first = step
        self.pending_last = step
        for kind in KINDS:
            self.pending_counts[kind] += histograms(kind, values[kind])
        self.pending += 1
        if self.pending == self.stride:
            self._push(step)

    def _push(self, step: int) -> None:
        if self.n == self.columns:
            self._coarsen()
            if self.pending < self.stride:  # the pending column now needs more samples
                return
        j = self.n
        self.first[j], self.last[j] = self.pending_first, step
        for kind in KINDS:
            self.counts[kind][:, j] = self.pending_counts[kind]
            self.pending_counts[kind][...] = 0.0
        self.n += 1
        self.pending = 0

    def _coarsen(self) -> None:
        """Merge columns 0+1, 2+3, ...: half the columns, each twice the samples."""
        half = self.columns // 2
        self.first[:half] = self.first[0::2]
        self.last[:half] = self.last[1::2]
        for kind in KINDS:
            c = self.counts[kind]
            c[:, :half] = c[:, 0::2] + c[:, 1::2]
            c[:, half:] = 0.0
        self.n = half
        self.stride *= 2

    def strips(self, kind: str) -> list[Strip]:
        """Per layer, the distribution of `kind` ("activations" or "gradients") over the
        run, the column being filled included."""
        if kind not in KINDS:
            raise KeyError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        first, last = self.first[: self.n], self.last[: self.n]
        counts = self.counts[kind][:, : self.n]
        if self.pending:
            first = np.append(first, self.pending_first)
            last = np.append(last, self.pending_last)
            counts = np.concatenate([counts, self.pending_counts[kind][:, None]], axis=1)
        steps = (first + last) / 2.0
        totals = counts.sum(axis=2, keepdims=True)
        density = counts / np.where(totals > 0, totals, 1.0)
        edges = EDGES[kind]
        return [Strip(steps, edges, density[i].T.copy()) for i in range(self.n_layers)]

    # ------------------------------------------------------------------ saving

    def state(self) -> dict[str, Array]:
        """Plain arrays that restore() reads back into an equal store."""
        state: dict[str, Array] = {
            "meta": np.array(
                [self.stride, self.n, self.pending, self.pending_first, self.pending_last],
                np.int64,
            ),
            "first": self.first[: self.n].copy(),
            "last": self.last[: self.n].copy(),
        }
        for kind in KINDS:
            state[f"{kind}.counts"] = self.counts[kind][:, : self.n].copy()
            state[f"{kind}.pending"] = self.pending_counts[kind].copy()
        return state

    def restore(self, state: Mapping[str, Array]) -> None:
        """Load a state() of a store of the same layers; ValueError naming the first bad
        array, with the store unchanged."""
        meta = _array(state, "meta", "i", (5,))
        stride, n, pending, pending_first, pending_last = (int(v) for v in meta)
        if not (stride >= 1 and stride & (stride - 1) == 0 and 0 <= n <= self.columns):
            raise ValueError(f"meta: stride {stride} and {n} columns do not fit this store")
        if not 0 <= pending < stride:
            raise ValueError(f"meta: {pending} pending samples, expected 0 to {stride - 1}")
        first = _array(state, "first", "i", (n,))
        last = _array(state, "last", "i", (n,))
        counts, pendings = {}, {}
        for kind in KINDS:
            bins = len(EDGES[kind]) - 1
            counts[kind] = _array(state, f"{kind}.counts", "f", (self.n_layers, n, bins))
            pendings[kind] = _array(state, f"{kind}.pending", "f", (self.n_layers, bins))
            for key, a in ((f"{kind}.counts", counts[kind]), (f"{kind}.pending", pendings[kind])):
                if not np.all(np.isfinite(a) & (a >= 0)):
                    raise ValueError(f"{key}: counts must be finite and >= 0")
        if np.any(last < first) or np.any(first[1:] <= last[:-1]):
            raise ValueError("first: columns do not follow each other in step order")
        self.stride, self.n, self.pending = stride, n, pending
        self.pending_first, self.pending_last = pending_first, pending_last
        self.first[:n], self.last[:n] = first, last
        for kind in KINDS:
            self.counts[kind][...] = 0.0
            self.counts[kind][:, :n] = counts[kind]
            self.pending_counts[kind][...] = pendings[kind]


def _array(state: Mapping[str, Array], key: str, kind: str, shape: tuple[int, ...]) -> Array:
    value = state.get(key)
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{key}: missing")
    if value.dtype.kind != kind or value.shape != shape:
        raise ValueError(
            f"{key}: {value.dtype} of shape {value.shape}, expected kind {kind!r}, shape {shape}"
        )
    return value
