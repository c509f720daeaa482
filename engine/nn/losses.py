"""Losses by name. Each returns (mean loss, dlogits) and follows PyTorch's reduction.

No loss writes into its inputs: logits and y are left as they were. compute_members does
the same for M stacked members at once (logits (M, N, C), y (M, N)): each member's loss,
bit for bit what compute gives on its own rows, and its dlogits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.nn.activations import stable_sigmoid
from engine.nn.layers import member_vdots, ones
from engine.nn.subnormals import flush_small
from engine.registry import Registry, UnknownName

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    task: str  # "classification" or "regression"
    compute: Callable[[Array, Array], tuple[float, Array]]
    outputs: Callable[[int], int]  # network outputs for C classes or T targets
    probabilities: Callable[[Array], Array]  # (N, C) for classification, outputs otherwise

    predictions: Callable[[Array], Array]  # labels for classification, outputs otherwise
    compute_members: Callable[[Array, Array], tuple[Array, Array]]  # (M,) losses, dlogits

    def accuracy(self, logits: Array, y: Array) -> float:
        """Share of correct labels; NaN for regression, which has no accuracy."""
        if self.task != "classification":
            return float("nan")
        return int(np.count_nonzero(self.predictions(logits) == y)) / len(y)

    def accuracy_members(self, logits: Array, y: Array) -> Array:
        """accuracy() of each stacked member, (M,)."""
        if self.task != "classification":
            return np.full(len(logits), np.nan)
        return (self.predictions(logits) == y).sum(axis=-1) / y.shape[-1]


LOSSES = Registry[Loss]("loss")


def get_loss(name: str, task: str = "classification") -> Loss:
    """'auto' follows the task: softmax cross-entropy to classify, MSE to regress.
    An unknown name raises UnknownName listing the valid ones, auto included."""
    if name == "auto":
        name = "softmax_cross_entropy" if task == "classification" else "mse"
    if name not in LOSSES:
        raise UnknownName("loss", name, ["auto", *LOSSES])
    return LOSSES[name]


def softmax(logits: Array) -> Array:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: Array, y: Array) -> tuple[float, Array]:
    """y: labels in [0, C), as the datasets make them (flat indexing does not check)."""
    logits = np.ascontiguousarray(logits)  # so that ravel() below gives views, not copies
    n, c = logits.shape
    # On the lab's batches (tens of rows, a few classes) NumPy's per-call setup costs
    # more than the arithmetic, so this takes the cheaper calls: an elementwise maximum
    # across a few columns for the row max, a product with ones for the row sums, and
    # flat indices (row * c + label) to reach each row's right class.
    if c <= 4:
        peak = logits[:, 0]
        for j in range(1, c):
            peak = np.maximum(peak, logits[:, j])
        shifted = logits - peak[:, None]
    else:
        shifted = logits - logits.max(axis=1, keepdims=True)
    right = _row_starts(n, c) + y  # shifted[rows, y] is shifted.ravel()[right]
    exp = np.exp(shifted)
    flush_small(exp)  # a confident net's wrong classes: subnormals slow the backward
    total = exp.dot(ones(c, exp.dtype))  # (n,): each row's sum
    losses = np.log(total)
    losses -= shifted.ravel()[right]  # -log softmax of the right class
    loss = float(np.add.reduce(losses)) / n
    dlogits = exp
    dlogits /= total[:, None]  # the softmax, in exp's array
    dlogits.ravel()[right] -= 1.0
    dlogits /= n
    return loss, dlogits


def softmax_cross_entropy_members(logits: Array, y: Array) -> tuple[Array, Array]:
    """softmax_cross_entropy of each member, the same steps on a leading member axis."""
    logits = np.ascontiguousarray(logits)
    m, n, c = logits.shape
    if c <= 4:
        peak = logits[..., 0]
        for j in range(1, c):
            peak = np.maximum(peak, logits[..., j])
        shifted = logits - peak[..., None]
    else:
        shifted = logits - logits.max(axis=2, keepdims=True)
    right = _row_starts(m * n, c) + y.ravel()
    exp = np.exp(shifted)
    flush_small(exp)
    total = np.matmul(exp, ones(c, exp.dtype))  # (m, n)
    losses = np.log(total)
    losses -= shifted.ravel()[right].reshape(m, n)
    loss = np.add.reduce(losses, axis=1).astype(np.float64) / n
    dlogits = exp
    dlogits /= total[..., None]
    dlogits.ravel()[right] -= 1.0
    dlogits /= n
    return loss, dlogits


_ROW_STARTS: dict[tuple[int, int], Array] = {}


def _row_starts(n: int, c: int) -> Array:
    """Flat index of each row's first entry in an (n, c) array, kept: batches have one size."""
    starts = _ROW_STARTS.get((n, c))
    if starts is None:
        starts = _ROW_STARTS[(n, c)] = np.arange(0, n * c, c)
        starts.flags.writeable = False
    return starts


def sigmoid_cross_entropy(logits: Array, y: Array) -> tuple[float, Array]:
    """Binary: one logit per sample, y in {0, 1}; log(1 + e^-|z|) keeps it stable."""
    z = logits[:, 0]
    t = y.astype(logits.dtype)
    losses = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
    loss = float(np.add.reduce(losses)) / z.shape[0]
    dlogits = ((stable_sigmoid(z) - t) / z.shape[0])[:, None]
    return loss, dlogits.astype(logits.dtype, copy=False)


def sigmoid_cross_entropy_members(logits: Array, y: Array) -> tuple[Array, Array]:
    """sigmoid_cross_entropy of each member."""
    z = logits[..., 0]
    t = y.astype(logits.dtype)
    n = z.shape[1]
    losses = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
    loss = np.add.reduce(losses, axis=1).astype(np.float64) / n
    dlogits = ((stable_sigmoid(z) - t) / n)[..., None]
    return loss, dlogits.astype(logits.dtype, copy=False)


def _two_class(logits: Array) -> Array:
    p = stable_sigmoid(logits[:, 0])
    return np.stack([1.0 - p, p], axis=1)


def mse(pred: Array, y: Array) -> tuple[float, Array]:
    if pred.shape != y.shape:  # (N, 1) against (N,) would broadcast to (N, N)
        raise ValueError(f"mse: outputs of shape {pred.shape}, targets of shape {y.shape}")
    diff = pred - y
    return float(np.vdot(diff, diff)) / diff.size, diff * (2.0 / diff.size)


def mse_members(pred: Array, y: Array) -> tuple[Array, Array]:
    """mse of each member."""
    if pred.shape != y.shape:
        raise ValueError(f"mse: outputs of shape {pred.shape}, targets of shape {y.shape}")
    diff = pred - y
    size = diff[0].size
    return member_vdots(diff).astype(np.float64) / size, diff * (2.0 / size)


# Predictions read the last axis, so they serve stacked members (M, N, C) too.
def _argmax(logits: Array) -> Array:
    return logits.argmax(axis=-1)  # the softmax keeps the order, so no need to take it


def _positive(logits: Array) -> Array:
    return (logits[..., 0] > 0).astype(np.int64)


def _identity(logits: Array) -> Array:
    return logits


for _loss in (
    Loss(
        "softmax_cross_entropy",
        "classification",
        softmax_cross_entropy,
        lambda c: c,
        softmax,
        _argmax,
        softmax_cross_entropy_members,
    ),
    Loss(
        "sigmoid_cross_entropy",
        "classification",
        sigmoid_cross_entropy,
        lambda c: 1,
        _two_class,
        _positive,
        sigmoid_cross_entropy_members,
    ),
    Loss("mse", "regression", mse, lambda t: t, _identity, _identity, mse_members),
):
    LOSSES.add(_loss.name, _loss)
