"""What the loss may be given: finite features, labels that are whole numbers 0..C-1, targets
(rows, outputs), one label or target a row. The losses index and broadcast without checking
(a label C reads the next row's first logit; targets (N,) against outputs (N, 1) broadcast to
(N, N)), so the loaders and the Dataset check here first.

Each check returns the problem, naming the array and its first bad entry, or None (as the
config rules do); the caller puts the file or field in front of it.
"""

from __future__ import annotations

import numpy as np

NUMERIC = "biuf"  # bool, signed and unsigned integers, floats


def as_targets(y: np.ndarray) -> np.ndarray:
    """Regression targets are (rows, outputs): a 1-D y is one output, (N, 1)."""
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _entry(name: str, a: np.ndarray, where: tuple[int, ...]) -> str:
    value = a[where].item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a label 3.0 reads as the 3 the file holds
    return f"{name}[{', '.join(map(str, where))}] = {value!r}"


def features_problem(name: str, X: np.ndarray) -> str | None:
    if X.ndim != 2 or X.dtype.kind not in NUMERIC or X.shape[1] == 0:
        return (
            f"{name} must be a 2-D numeric array (rows, features), "
            f"got {X.ndim}-D {X.dtype} of shape {X.shape}"
        )
    return finite_problem(name, X, "features")


def labels_problem(name: str, y: np.ndarray, n_classes: int, counted: str) -> str | None:
    """Class indices: 1-D whole numbers 0..n_classes-1. `counted` says where n_classes came
    from ("3 class_names", "n_classes = 3"), so the message explains the range."""
    if y.ndim != 1:
        return f"{name} must be 1-D (one label a row), got shape {y.shape}"
    if y.dtype.kind not in NUMERIC:
        return f"{name} must hold whole numbers, got {y.dtype}"
    with np.errstate(invalid="ignore"):  # NaN compares False: it is caught as out of range
        ok = (y >= 0) & (y < n_classes) & (y == np.round(y))
    if not ok.all():
        allowed = f"0..{n_classes - 1}" if n_classes > 0 else "none"
        return f"{_entry(name, y, _first(~ok))}, labels must be whole numbers {allowed} ({counted})"
    return None


def targets_problem(name: str, y: np.ndarray) -> str | None:
    """Regression targets: 2-D (rows, outputs), finite numbers."""
    if y.ndim != 2 or y.dtype.kind not in NUMERIC or y.shape[1] == 0:
        return (
            f"{name} must be a 2-D numeric array (rows, outputs), "
            f"got {y.ndim}-D {y.dtype} of shape {y.shape}"
        )
    return finite_problem(name, y, "targets")


def finite_problem(name: str, a: np.ndarray, what: str) -> str | None:
    """The first NaN or infinity of a numeric array, by its index."""
    bad = ~np.isfinite(a)
    if bad.any():
        return f"{_entry(name, a, _first(bad))}, {what} must be finite numbers"
    return None


def rows_problem(x_name: str, X: np.ndarray, y_name: str, y: np.ndarray) -> str | None:
    if y.ndim == 0 or len(y) != len(X):
        return (
            f"{y_name} must have one entry per row of {x_name}: "
            f"{x_name} {X.shape}, {y_name} {y.shape}"
        )
    return None
