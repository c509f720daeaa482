"""Numerical gradient check, CS231n style: float64 centred differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.nn.losses import Loss
from engine.nn.network import MLP

Array = np.ndarray

GOOD = 1e-7
KINK_OK = 1e-4  # ReLU and maxout kinks excuse this much
WRONG = 1e-2


def relative_error(analytic: Array, numeric: Array) -> Array:
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)


def verdict(error: float, has_kinks: bool) -> str:
    if error < GOOD:
        return "good"
    if has_kinks and error < KINK_OK:
        return "ok (kinks)"
    if error > WRONG:
        return "wrong"
    return "suspect"


@dataclass(frozen=True)
class CheckRow:
    name: str
    shape: tuple[int, ...]
    checked: int
    max_error: float
    mean_error: float
    verdict: str


def gradcheck(
    network: MLP,
    X: Array,
    y: Array,
    loss: Loss,
    h: float = 1e-5,
    max_per_param: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[CheckRow]:
    """Compare backward's gradients with centred differences, one row per parameter.

    Works on a float64 copy, so the caller's network is untouched."""
    net = network.astype(np.float64)
    X = np.asarray(X, dtype=np.float64)
    if loss.task == "regression":
        y = np.asarray(y, dtype=np.float64)
    rng = rng or np.random.default_rng(0)

    def objective() -> float:
        return loss.compute(net.forward(X), y)[0]

    _, dlogits = loss.compute(net.forward(X), y)
    analytic = {k: g.copy() for k, g in net.backward(dlogits).items()}
    # ReLU-like activations, and maxout's max over its pieces, are not differentiable
    # everywhere.
    has_kinks = any(layer.activation.kinked or layer.pieces > 1 for layer in net.layers)
    rows = []
    for name, param in net.parameters().items():
        flat = param.reshape(-1)
        indices = np.arange(flat.size)
        if max_per_param is not None and flat.size > max_per_param:
            indices = rng.choice(flat.size, max_per_param, replace=False)
        numeric = np.empty(len(indices))
        for j, i in enumerate(indices):
            old = flat[i]
            flat[i] = old + h
            plus = objective()
            flat[i] = old - h
            minus = objective()
            flat[i] = old
            numeric[j] = (plus - minus) / (2 * h)
        errors = relative_error(analytic[name].reshape(-1)[indices], numeric)
        worst = float(errors.max())
        rows.append(
            CheckRow(
                name,
                param.shape,
                len(indices),
                worst,
                float(errors.mean()),
                verdict(worst, has_kinks),
            )
        )
    return rows
