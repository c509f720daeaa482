"""Losses by name. Each returns (mean loss, dlogits) and follows PyTorch's reduction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.activations import stable_sigmoid

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    task: str  # "classification" or "regression"
    compute: Callable[[Array, Array], tuple[float, Array]]
    outputs: Callable[[int], int]  # network outputs for C classes or T targets
    probabilities: Callable[[Array], Array]  # (N, C) for classification, outputs otherwise

    predictions: Callable[[Array], Array]  # labels for classification, outputs otherwise

    def accuracy(self, logits: Array, y: Array) -> float:
        """Share of correct labels; NaN for regression, which has no accuracy."""
        if self.task != "classification":
            return float("nan")
        return int(np.count_nonzero(self.predictions(logits) == y)) / len(y)


LOSSES: dict[str, Loss] = {}


def get_loss(name: str, task: str = "classification") -> Loss:
    """'auto' follows the task: softmax cross-entropy to classify, MSE to regress."""
    if name == "auto":
        name = "softmax_cross_entropy" if task == "classification" else "mse"
    if name not in LOSSES:
        raise KeyError(f"unknown loss {name!r}; valid: auto, {', '.join(LOSSES)}")
    return LOSSES[name]


def softmax(logits: Array) -> Array:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: Array, y: Array) -> tuple[float, Array]:
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
    dlogits = exp / total
    dlogits[rows, y] -= 1.0
    dlogits /= n
    return loss, dlogits


def sigmoid_cross_entropy(logits: Array, y: Array) -> tuple[float, Array]:
    """Binary: one logit per sample, y in {0, 1}; log(1 + e^-|z|) keeps it stable."""
    z = logits[:, 0]
    t = y.astype(logits.dtype)
    loss = float(np.mean(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))))
    dlogits = ((stable_sigmoid(z) - t) / z.shape[0])[:, None]
    return loss, dlogits.astype(logits.dtype, copy=False)


def _two_class(logits: Array) -> Array:
    p = stable_sigmoid(logits[:, 0])
    return np.stack([1.0 - p, p], axis=1)


def mse(pred: Array, y: Array) -> tuple[float, Array]:
    diff = pred - y
    return float(np.mean(diff * diff)), diff * (2.0 / diff.size)


def _argmax(logits: Array) -> Array:
    return logits.argmax(axis=1)  # the softmax keeps the order, so no need to take it


def _positive(logits: Array) -> Array:
    return (logits[:, 0] > 0).astype(np.int64)


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
    ),
    Loss(
        "sigmoid_cross_entropy",
        "classification",
        sigmoid_cross_entropy,
        lambda c: 1,
        _two_class,
        _positive,
    ),
    Loss("mse", "regression", mse, lambda t: t, _identity, _identity),
):
    LOSSES[_loss.name] = _loss
