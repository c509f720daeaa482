"""Feature crosses: the inputs TensorFlow Playground offers besides x1 and x2.

The network reads the chosen features of each point (x1^2 and x2^2 let a single neuron
separate the circles: a linear classifier in feature space), while the data, the decision
boundary and the unit maps stay over the original plane: the Trainer computes the
features of every point it is given.

    cross(X, ["x1", "x2", "x1^2"])   # (n, 2) points -> (n, 3) inputs
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ConfigError
from engine.registry import Registry

Array = np.ndarray


@dataclass(frozen=True)
class Feature:
    name: str
    formula: str  # as the lab and the docs write it
    compute: Callable[[Array], Array]  # (n, 2) points -> (n,) values


FEATURES = Registry[Feature]("feature")


def _feature(name: str, formula: str, compute: Callable[[Array], Array]) -> None:
    FEATURES.add(name, Feature(name, formula, compute))


_feature("x1", "x1", lambda X: X[:, 0])
_feature("x2", "x2", lambda X: X[:, 1])
_feature("x1^2", "x1²", lambda X: X[:, 0] * X[:, 0])
_feature("x2^2", "x2²", lambda X: X[:, 1] * X[:, 1])
_feature("x1x2", "x1·x2", lambda X: X[:, 0] * X[:, 1])
_feature("sin_x1", "sin x1", lambda X: np.sin(X[:, 0]))
_feature("sin_x2", "sin x2", lambda X: np.sin(X[:, 1]))

IDENTITY = ("x1", "x2")  # the default: the network reads the points as they are


def is_identity(names: Sequence[str]) -> bool:
    return tuple(names) == IDENTITY


def cross(X: Array, names: Sequence[str]) -> Array:
    """The features `names` of the points X (n, 2), as (n, len(names)) in X's dtype."""
    return np.column_stack([FEATURES[name].compute(X) for name in names]).astype(X.dtype)


def crossing(names: Sequence[str], width: int, source: str) -> tuple[Callable[[Array], Array], int]:
    """The map from points of `width` coordinates to the network's inputs, and their
    number: the identity for the default, else cross(). ConfigError("data.features") when
    crosses are asked of data that is not 2-D (`source` names the data: "points.csv")."""
    if is_identity(names):
        return _same, width
    if width != 2:
        raise ConfigError(
            "data.features",
            f"feature crosses need 2-D data (x1, x2); {source} has {width} input"
            f"{'s' if width != 1 else ''}: keep the default {list(IDENTITY)}",
        )
    chosen = tuple(names)
    return (lambda X: cross(X, chosen)), len(chosen)


def _same(X: Array) -> Array:
    return X
